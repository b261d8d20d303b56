//! GEN001–GEN034: generating files from the model.

use super::Code;

pub(super) const CODES: &[Code] = codes! {
    /// ## What it reports
    /// An invariant over the generated files that does not hold: a service with no
    /// container in `compose/docker-compose.yaml`, or a service built from source
    /// with no Dockerfile.
    ///
    /// ## Why
    /// The output would not deploy what the input describes; it is a slipway bug
    /// or a broken template override.
    ///
    /// ## Fix
    /// Check your `--templates` overrides; otherwise report it with the input.
    GEN001 "output-invariant-broken" Error;

    /// ## What it reports
    /// Containers in the generated compose file with no healthcheck (the
    /// `every-container-has-a-healthcheck` invariant).
    ///
    /// ## Why
    /// A deploy cannot tell a started container from a working one, so it cannot
    /// gate on health or roll back on failure.
    ///
    /// ## Fix
    /// Give the service `health:` in the spec.
    GEN002 "missing-healthcheck" Warning;

    /// ## What it reports
    /// A generated file edited by hand since the last generation; it is kept as it
    /// is.
    ///
    /// ## Why
    /// Your edit is not overwritten without asking.
    ///
    /// ## Fix
    /// Review the change with `--dry-run`, then pass `--force` to overwrite it, or
    /// keep your edit.
    GEN003 "hand-edited-file-kept" Warning;

    /// ## What it reports
    /// A target in the spec's `targets` that this version has no emitter for;
    /// nothing is generated for it.
    ///
    /// ## Why
    /// Files you expect would be missing.
    ///
    /// ## Fix
    /// Use a target this version emits (the help lists them), or wait for it.
    GEN004 "target-not-emitted" Warning;

    /// ## What it reports
    /// A bind mount with no Kubernetes equivalent; the pod mounts an empty
    /// `emptyDir` in its place.
    ///
    /// ## Why
    /// The files the service expects there are missing in Kubernetes.
    ///
    /// ## Fix
    /// Bake the files into the image, or provide them as a ConfigMap or volume and
    /// edit the generated manifest.
    GEN010 "bind-mount-not-in-kubernetes" Warning;

    /// ## What it reports
    /// An image whose user is unknown or root; the pod runs it as uid 10001.
    ///
    /// ## Why
    /// The pods run as non-root; an image that needs root or another uid may fail
    /// to start or to write its files.
    ///
    /// ## Fix
    /// Set a numeric non-root `user:` for the service, or rebuild the image to run
    /// as non-root.
    GEN011 "pod-user-assumed" Warning;

    /// ## What it reports
    /// An image with no hardening profile: it keeps its capabilities and a
    /// writable root filesystem, which it may need.
    ///
    /// ## Why
    /// slipway drops capabilities and makes the root filesystem read-only only
    /// where it knows the image still works.
    ///
    /// ## Fix
    /// If the image runs as a non-root user, set `user:` to its numeric uid and
    /// its capabilities are dropped too.
    GEN012 "image-not-hardened" Info;

    /// ## What it reports
    /// Values of a service detected by guessing rather than read from a file: the
    /// port, health path, start command, language version, package manager or
    /// entry.
    ///
    /// ## Why
    /// A guess may be wrong; the generated files depend on it.
    ///
    /// ## Fix
    /// Check them, and set `port:`, `health:` or `command:` in the spec to confirm.
    GEN020 "guessed-values" Info;

    /// ## What it reports
    /// A health-check interval or timeout that is not a whole number of seconds;
    /// the Kubernetes probes round it.
    ///
    /// ## Why
    /// Kubernetes probes count whole seconds.
    ///
    /// ## Fix
    /// Nothing, or use whole seconds in the input.
    GEN030 "probe-timing-rounded" Info;

    /// ## What it reports
    /// Compose networks that let containers reach the internet, while the
    /// generated NetworkPolicies allow only traffic within a network, to
    /// dependencies and to DNS.
    ///
    /// ## Why
    /// A service that calls outside the cluster works under compose and not under
    /// Kubernetes.
    ///
    /// ## Fix
    /// Add an egress rule to the service's NetworkPolicy for what it must reach.
    GEN031 "egress-narrowed" Info;

    /// ## What it reports
    /// Variables the output adds to the environment of a service imported from
    /// compose: `PORT`, the connection settings of the resources it uses, the
    /// `NAME_FILE` paths of its secrets, `APP_ENV`.
    ///
    /// ## Why
    /// So the import report lists every difference from the input.
    ///
    /// ## Fix
    /// Set the variable in the input to keep your own value.
    GEN032 "environment-added" Info;

    /// ## What it reports
    /// The generated Alertmanager configuration routes every alert to the
    /// receiver `default`, which has no notification settings.
    ///
    /// ## Why
    /// Alerts fire and show in Alertmanager, but nobody is notified.
    ///
    /// ## Fix
    /// Add a webhook, email or chat configuration to `default` in
    /// `monitoring/alertmanager/alertmanager.yml`.
    GEN033 "alerts-not-delivered" Info;

    /// ## What it reports
    /// Services and resources the `monitoring` target does not watch: a service
    /// with no port (nothing to probe), a resource kind with no exporter yet
    /// (only PostgreSQL and Redis have one).
    ///
    /// ## Why
    /// An alert that cannot fire looks the same as a healthy service.
    ///
    /// ## Fix
    /// Give the service a `port` and a `health` path, or watch the resource
    /// another way.
    GEN034 "not-monitored" Info;
};
