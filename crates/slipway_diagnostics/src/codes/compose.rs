//! SPEC100–SPEC125: importing Docker Compose files.

use super::Code;

pub(super) const CODES: &[Code] = codes! {
    /// ## What it reports
    /// Input that is not a compose project slipway can convert: a file that is not
    /// a mapping, the legacy version-1 format (services at the top level), or files
    /// that define no service (or only services of profiles not selected).
    ///
    /// ## Why
    /// Docker Compose no longer reads the legacy format, and with no service there
    /// is nothing to generate.
    ///
    /// ## Fix
    /// Put the services under a top-level `services:` key and remove `version:`;
    /// with profiles, select one with `--profile`.
    SPEC100 "not-a-compose-project" Error;

    /// ## What it reports
    /// An unknown key at the top level of a compose file, in a service, or in a
    /// service's `build`; it is ignored. Keys starting with `x-` are not reported.
    ///
    /// ## Why
    /// A misspelled key would otherwise drop its setting without a word.
    ///
    /// ## Fix
    /// Correct the key (the help suggests the nearest), or move it under `x-...`.
    SPEC101 "unknown-compose-key" Warning;

    /// ## What it reports
    /// A compose value slipway cannot read or convert. This code covers several
    /// problems: a malformed port mapping, volume mount, duration or `retries`; an
    /// `environment` or `args` that is neither a mapping nor a `KEY=value` list; a
    /// service that is not a mapping; a service with neither `image` nor `build`;
    /// a service joining a network no top-level `networks:` declares.
    ///
    /// ## Why
    /// Docker Compose refuses these files too; converting a guess would deploy
    /// something other than what the file says.
    ///
    /// ## Fix
    /// Write the value in the form shown under "expected", or declare what it names.
    SPEC102 "invalid-compose-value" Error;

    /// ## What it reports
    /// A service setting that has no safe equivalent in the output and is dropped:
    /// `privileged`, `network_mode`, `cap_add`, `sysctls`, `pid`, `ipc`, `devices`,
    /// `configs`, `working_dir`, `extra_hosts`, `runtime`, `shm_size`,
    /// `userns_mode`, `external_links`, `volumes_from`. The rest converts.
    ///
    /// ## Why
    /// Most of these widen what a container may do to its host; the output never
    /// generates them, and the service may behave differently without them.
    ///
    /// ## Fix
    /// Check that the service works without the setting, or provide it another way
    /// (a ConfigMap for `configs`, `WORKDIR` in the image for `working_dir`).
    SPEC103 "unsupported-compose-key" Warning;

    /// ## What it reports
    /// A bind mount of a host folder or file into a service.
    ///
    /// ## Why
    /// It depends on this host's files: compose keeps it, but a Kubernetes pod gets
    /// an empty folder in its place (see GEN010).
    ///
    /// ## Fix
    /// Bake the files into the image, mount them from a ConfigMap, or use a named
    /// volume.
    SPEC104 "bind-mount" Warning;

    /// ## What it reports
    /// A variable used in interpolation (`${VAR}`) that is set nowhere slipway
    /// reads (`.env`, an env file, a default), or a service's `env_file` that
    /// cannot be read, whose variables are then left out.
    ///
    /// ## Why
    /// The value is kept as `${VAR}` for the deploy to fill in, or is empty where
    /// slipway reads it (ports, paths, numbers); the output may differ from what
    /// your shell would give.
    ///
    /// ## Fix
    /// Set it in `.env` beside the compose file, give a default with
    /// `${VAR:-default}`, or pass `--env-from-shell`; make the env file readable.
    SPEC105 "unset-variable" Warning;

    /// ## What it reports
    /// Interpolation that fails: a required variable (`${VAR:?message}`) that is
    /// not set, an unclosed `${`, a `${}` with no variable name, or an expansion
    /// form Compose does not support.
    ///
    /// ## Why
    /// Docker Compose refuses the file the same way; `check` reports the syntax
    /// errors as CMP001.
    ///
    /// ## Fix
    /// Set the variable in `.env` (or pass `--env-from-shell`), correct the
    /// expression, or escape a literal `$` as `$$`.
    SPEC106 "interpolation-failed" Error;

    /// ## What it reports
    /// A service `user` that is not a numeric uid other than 0 (a name, or root);
    /// it is not carried over.
    ///
    /// ## Why
    /// Kubernetes can enforce a non-root user only by number.
    ///
    /// ## Fix
    /// Use a numeric uid, such as `user: "1000:1000"`.
    SPEC108 "user-not-numeric" Warning;

    /// ## What it reports
    /// A service whose `platform` is WebAssembly (`wasi/...`).
    ///
    /// ## Why
    /// It needs a wasm runtime class, which cannot be generated here.
    ///
    /// ## Fix
    /// Convert the other services, and run this one with a wasm-capable runtime
    /// (a RuntimeClass) by hand.
    SPEC109 "wasm-platform" Error;

    /// ## What it reports
    /// A service that is only in profiles not selected with `--profile`; it is left
    /// out, as `docker compose up` would leave it out.
    ///
    /// ## Why
    /// So you know which services the output does not contain.
    ///
    /// ## Fix
    /// Nothing, if that is intended; otherwise pass `--profile NAME`.
    SPEC110 "service-outside-profile" Info;

    /// ## What it reports
    /// A service renamed in the output because its name is not a DNS label; the
    /// message gives the new name.
    ///
    /// ## Why
    /// Kubernetes names must be DNS labels; other services must address the new
    /// name.
    ///
    /// ## Fix
    /// Rename the service in the compose file to a lowercase DNS label.
    SPEC111 "service-renamed" Warning;

    /// ## What it reports
    /// A `depends_on` entry naming a service that is not converted (left out by a
    /// profile, or not defined); the dependency is dropped.
    ///
    /// ## Why
    /// The service may start before something it needs.
    ///
    /// ## Fix
    /// Select the dependency's profile, or remove the entry.
    SPEC112 "dependency-dropped" Warning;

    /// ## What it reports
    /// A `--profile` that selects nothing: no service of the compose files is in
    /// that profile, or the input is not a compose file at all.
    ///
    /// ## Why
    /// Docker Compose accepts a profile no service declares and selects nothing
    /// with it, so for compose files this is a warning: most often a typo. For any
    /// other input `--profile` means nothing, and it is an error.
    ///
    /// ## Fix
    /// Use a profile the files declare (the help suggests the nearest), or drop
    /// `--profile`; `slipway check --profile` is where policy profiles are chosen.
    SPEC113 "unknown-profile" Error;

    /// ## What it reports
    /// A problem with an env file: a line that is not `KEY=value` (in `.env`, an
    /// include's or a service's `env_file`), or a `.env` or include `env_file`
    /// that cannot be read. Reported as a note for a `.env` key with no value,
    /// which Compose would take from the shell.
    ///
    /// ## Why
    /// Compose refuses such a file; values slipway cannot read are left out.
    ///
    /// ## Fix
    /// Quote the value or escape a literal `$` as `$$`; give the key a value, or
    /// pass `--env-from-shell`.
    SPEC120 "env-file-problem" Error;

    /// ## What it reports
    /// A problem with `include`: a cycle, more depth or files than the limit, an
    /// entry that names no file, a file that cannot be read (also a file named by
    /// `extends.file`), or a service an include brings that is defined again.
    ///
    /// ## Why
    /// Compose refuses these projects; the merged project would be ambiguous.
    ///
    /// ## Fix
    /// Correct the path (relative to the file that names it), remove the `include`
    /// that loops, or rename one of the clashing services.
    SPEC121 "include-problem" Error;

    /// ## What it reports
    /// A problem with `extends`: it names no service, names one its file does not
    /// define, forms a cycle, chains deeper than the limit, or needs more files
    /// than the limit.
    ///
    /// ## Why
    /// The service's settings cannot be resolved.
    ///
    /// ## Fix
    /// Name an existing service under `extends.service`, or break the cycle.
    SPEC122 "extends-problem" Error;

    /// ## What it reports
    /// A setting that is read but not carried into the output, and what the output
    /// does instead: service keys such as `container_name`, `logging`, `restart`,
    /// `labels`, `links`; healthcheck, `deploy`, limit, build, network, secret and
    /// dependency settings; `platform`; build args with no value. A warning when
    /// the difference changes behaviour, otherwise a note.
    ///
    /// ## Why
    /// So the import report lists every difference from the input.
    ///
    /// ## Fix
    /// Nothing, if the replacement suits; otherwise adjust the generated files.
    SPEC123 "setting-not-carried" Warning;

    /// ## What it reports
    /// A service converted with a deliberate difference: with both `build` and
    /// `image` it is built and named after the project and service; ports are
    /// published on 127.0.0.1 where the input publishes them on every interface.
    ///
    /// ## Why
    /// So the difference is known before the first deploy.
    ///
    /// ## Fix
    /// Write `0.0.0.0:HOST:CONTAINER` to publish on every interface.
    SPEC124 "output-differs" Info;

    /// ## What it reports
    /// A service that declares no port but is reached by another service: it gets
    /// its image's known port (a note), a port guessed from how it is addressed (a
    /// warning), or, with no port to use, no Kubernetes Service (a warning).
    ///
    /// ## Why
    /// Kubernetes reaches a service only through a Service with a port.
    ///
    /// ## Fix
    /// Add `expose: ["PORT"]` to the service.
    SPEC125 "port-inferred" Warning;
};
