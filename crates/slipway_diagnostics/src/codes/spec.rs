//! SPEC001–SPEC020: reading YAML (every input) and the native `slipway.yaml`, and
//! the options `generate` checks against it.

use super::Code;

pub(super) const CODES: &[Code] = codes! {
    /// ## What it reports
    /// A YAML file that cannot be read: a syntax error, nesting deeper than the
    /// parser allows, more nodes than its budget, an alias to an unknown anchor, a
    /// merge key (`<<`) that names no mapping, or a key repeated in one mapping.
    /// Every YAML input is read this way: specs, compose, Score, level-10, profiles
    /// and the files `check` reads.
    ///
    /// ## Why
    /// Nothing else in the file can be judged until it parses; one error is
    /// reported, at the place the parser stopped.
    ///
    /// ## Fix
    /// Correct the YAML at the position shown, then run the command again.
    SPEC001 "invalid-yaml" Error;

    /// ## What it reports
    /// A key the spec does not define at that place, such as `depend_on` in a
    /// service. The help names the nearest valid key when one is close.
    ///
    /// ## Why
    /// A misspelled key would otherwise be ignored, and its setting silently lost.
    ///
    /// ## Fix
    /// Use one of the keys listed under "expected", or remove the line.
    SPEC002 "unknown-key" Error;

    /// ## What it reports
    /// A value of the wrong kind: a list where a mapping belongs, a mapping where a
    /// number belongs, a key that is not a plain name.
    ///
    /// ## Why
    /// slipway does not coerce values; guessing what a mistyped value meant would
    /// generate something you did not ask for.
    ///
    /// ## Fix
    /// Write the value in the form shown under "expected".
    SPEC003 "wrong-type" Error;

    /// ## What it reports
    /// Something the spec must have is missing: the spec is empty, it has no
    /// `name`, a service has neither `path` nor `image`, a resource has no `type`,
    /// or an `ingress` has no `host`.
    ///
    /// ## Why
    /// Without it there is nothing definite to generate.
    ///
    /// ## Fix
    /// Add the key named in the message; `slipway init` writes a complete spec.
    SPEC004 "missing-required" Error;

    /// ## What it reports
    /// A name or path slipway cannot use: an app, service, resource or environment
    /// name that is not a lowercase DNS label (empty, uppercase, over 63 characters,
    /// or able to escape the output folder), a service `path` that leaves the spec's
    /// folder, an invalid environment variable name, or a name used by both a
    /// service and a resource. Several problems share this code.
    ///
    /// ## Why
    /// Names become folders, DNS names and compose services; paths must stay inside
    /// the project so generation cannot read or write elsewhere.
    ///
    /// ## Fix
    /// Rename as the help suggests (lowercase letters, digits and `-`), or keep the
    /// service's folder under the folder that holds `slipway.yaml`.
    SPEC005 "invalid-name" Error;

    /// ## What it reports
    /// A `depends_on` entry that names no service or resource of the spec, or a
    /// service that depends on itself.
    ///
    /// ## Why
    /// The start order and the readiness waits are built from `depends_on`; a
    /// dangling entry has nothing to wait for.
    ///
    /// ## Fix
    /// Correct the name (the help suggests the nearest), define it under
    /// `services:` or `resources:`, or remove the entry.
    SPEC006 "unknown-dependency" Error;

    /// ## What it reports
    /// Services whose `depends_on` entries form a circle (`a -> b -> a`).
    ///
    /// ## Why
    /// Each would wait for the other to start; none would ever start.
    ///
    /// ## Fix
    /// Remove one of the edges named in the message.
    SPEC007 "dependency-cycle" Error;

    /// ## What it reports
    /// Two published services that use the same host port in one environment,
    /// counting the consecutive ports their replicas publish.
    ///
    /// ## Why
    /// Only one process can listen on a host port; the second service would fail
    /// to start at deploy time.
    ///
    /// ## Fix
    /// Give one of them a free `host_port:`.
    SPEC008 "host-port-clash" Error;

    /// ## What it reports
    /// A value the spec cannot use. This code covers several different problems:
    /// an image not pinned to a version (untagged or `latest`); a resource
    /// `version` that is empty, `latest` or malformed; an unknown resource `type`;
    /// an unknown name in `targets`, or an unknown `--target` given to `generate`;
    /// a CPU or memory quantity, an HTTP path or a number out of range; an empty
    /// `command`; a `user` that is not a numeric non-root uid; a service with both
    /// `path` and `image`; `host_port` together with `publish: false`.
    ///
    /// ## Why
    /// Each would generate files that change under you, fail at deploy time, or do
    /// something other than what the spec says.
    ///
    /// ## Fix
    /// Follow the message's "expected" and help lines; they name the accepted form.
    SPEC009 "invalid-value" Error;

    /// ## What it reports
    /// The same key twice in one mapping of the spec; the second is skipped.
    ///
    /// ## Why
    /// Which of the two was meant cannot be known.
    ///
    /// ## Fix
    /// Remove one of the two entries; the label shows where the first is.
    SPEC010 "duplicate-key" Error;

    /// ## What it reports
    /// An environment that the spec's `environments` does not declare: a key of a
    /// per-environment value (such as `replicas: { prdo: 2 }`), or the environment
    /// given to `generate --env`.
    ///
    /// ## Why
    /// A value for an undeclared environment would never be used, and generating
    /// for one would produce files no deploy can select.
    ///
    /// ## Fix
    /// Use a declared environment (the help suggests the nearest) or `default`, or
    /// add it to `environments`.
    SPEC011 "undeclared-environment" Error;

    /// ## What it reports
    /// A service built from source whose `path` cannot be used: the folder does not
    /// exist, or no supported language is found in it (no `package.json`,
    /// `pyproject.toml`, `requirements.txt`, `go.mod`, `Cargo.toml` or `pom.xml`).
    ///
    /// ## Why
    /// slipway writes the Dockerfile from what it detects in that folder.
    ///
    /// ## Fix
    /// Correct `path` (it is relative to the spec's folder), or use `image:` for a
    /// prebuilt image.
    SPEC012 "unusable-service-path" Error;

    /// ## What it reports
    /// With `pin_digests: true`, an image the output uses (a service's, a
    /// resource's, or a Dockerfile's base) whose reference, after the `images:`
    /// mirror map, carries no `@sha256:` digest.
    ///
    /// ## Why
    /// `pin_digests` promises that every image is fixed to its exact bytes.
    ///
    /// ## Fix
    /// Map the image to a digest under `images:` (`docker buildx imagetools
    /// inspect IMAGE` shows it), or turn `pin_digests` off.
    SPEC013 "digest-missing" Error;

    /// ## What it reports
    /// A YAML input larger than the parser's size limit; it is not read.
    ///
    /// ## Why
    /// The limit keeps a hostile or mistaken input from exhausting memory.
    ///
    /// ## Fix
    /// Split the input into smaller files.
    SPEC014 "file-too-large" Error;

    /// ## What it reports
    /// A variable under `env` whose name looks like a secret (`PASSWORD`, `TOKEN`,
    /// `SECRET`, ...) and whose value is written out in plain text.
    ///
    /// ## Why
    /// Values under `env` land in generated files and in version control.
    ///
    /// ## Fix
    /// Move it to `secrets: [NAME]`, where its value is read from a file at run
    /// time, and remove it from `env`.
    SPEC015 "plaintext-secret" Error;

    /// ## What it reports
    /// An `--image-map FROM=TO` whose FROM or TO is not a valid image reference.
    ///
    /// ## Why
    /// Both sides are written into Dockerfiles and compose files.
    ///
    /// ## Fix
    /// Give two image references, such as
    /// `python:3.12-slim=mirror.local/python:3.12-slim`.
    SPEC016 "invalid-image-map" Error;

    /// ## What it reports
    /// A service built from source for which no start command was found (no start
    /// script, known framework server or existing entry file), and the spec gives
    /// no `command`.
    ///
    /// ## Why
    /// The image would have nothing to run.
    ///
    /// ## Fix
    /// Set `command:` on the service, such as `command: [node, dist/server.js]`.
    SPEC020 "no-start-command" Error;
};
