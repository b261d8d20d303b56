//! SCORE001–SCORE013: importing Score (`score.dev/v1b1`) workloads.

use super::Code;

pub(super) const CODES: &[Code] = codes! {
    /// ## What it reports
    /// No Score workload to convert: the files hold none, or a document is not a
    /// mapping.
    ///
    /// ## Why
    /// There is nothing to generate.
    ///
    /// ## Fix
    /// A Score file has `apiVersion: score.dev/v1b1`, `metadata.name` and
    /// `containers`.
    SCORE001 "no-score-workload" Error;

    /// ## What it reports
    /// A workload whose `apiVersion` is missing or other than `score.dev/v1b1`.
    ///
    /// ## Why
    /// Only that version's fields are understood.
    ///
    /// ## Fix
    /// Set `apiVersion: score.dev/v1b1`.
    SCORE002 "unsupported-api-version" Error;

    /// ## What it reports
    /// A top-level workload key other than `apiVersion`, `metadata`, `service`,
    /// `containers` and `resources`; it is ignored.
    ///
    /// ## Why
    /// A misspelled key would otherwise drop its settings without a word.
    ///
    /// ## Fix
    /// Correct the key (the help suggests the nearest), or remove it.
    SCORE003 "unknown-workload-key" Warning;

    /// ## What it reports
    /// A workload without `metadata.name`, or without `containers`.
    ///
    /// ## Why
    /// The name names the service; the first container is what runs.
    ///
    /// ## Fix
    /// Add the missing field.
    SCORE004 "missing-workload-field" Error;

    /// ## What it reports
    /// A workload renamed because `metadata.name` is not a DNS label.
    ///
    /// ## Why
    /// Service names become DNS names and folders; others must use the new name.
    ///
    /// ## Fix
    /// Use a lowercase DNS label as `metadata.name`.
    SCORE005 "workload-renamed" Warning;

    /// ## What it reports
    /// A `dns` resource: no DNS provider is available, so the host
    /// `NAME.example.com` is used.
    ///
    /// ## Why
    /// The generated Ingress answers for a placeholder host.
    ///
    /// ## Fix
    /// Edit the host in the generated Ingress, or give the `route` a `host`.
    SCORE006 "dns-placeholder-host" Warning;

    /// ## What it reports
    /// A resource whose `type` slipway does not provision (only postgres, redis,
    /// nats, amqp, mysql, mongodb, volume, environment, dns and route are).
    ///
    /// ## Why
    /// Placeholders that refer to it stay empty.
    ///
    /// ## Fix
    /// Provide the resource yourself and set the variables that use it.
    SCORE007 "resource-not-provisioned" Warning;

    /// ## What it reports
    /// A workload with more than one container; only the first is converted.
    ///
    /// ## Why
    /// Sidecars are not generated; what they did is missing.
    ///
    /// ## Fix
    /// Move the sidecar into a workload of its own, or add it to the output by hand.
    SCORE008 "sidecar-dropped" Warning;

    /// ## What it reports
    /// A variable whose value uses a secret output (such as a database password);
    /// it becomes a secret reference.
    ///
    /// ## Why
    /// Secret values are never written into generated files.
    ///
    /// ## Fix
    /// Nothing; the secret is read from a file at run time.
    SCORE009 "secret-output-referenced" Warning;

    /// ## What it reports
    /// A reference this workload cannot resolve: a placeholder naming a resource
    /// output no resource provides, or a volume `source` that is not a `volume`
    /// resource of the workload.
    ///
    /// ## Why
    /// The variable or volume would have no value.
    ///
    /// ## Fix
    /// Declare the resource under `resources:`, or correct the reference.
    SCORE010 "unresolved-reference" Error;

    /// ## What it reports
    /// A container file that is not written: it has no inline `content`, or its
    /// content contains a secret or unknown placeholder.
    ///
    /// ## Why
    /// Only inline files without secrets are generated.
    ///
    /// ## Fix
    /// Inline the content, or mount the file from a Secret or ConfigMap by hand.
    SCORE011 "file-not-converted" Warning;

    /// ## What it reports
    /// A `route` resource on a workload with no service port; the route is dropped.
    ///
    /// ## Why
    /// An Ingress needs a port to send traffic to.
    ///
    /// ## Fix
    /// Declare a port under `service.ports`.
    SCORE012 "route-without-port" Warning;

    /// ## What it reports
    /// Two workloads with the same name (after renaming to a DNS label).
    ///
    /// ## Why
    /// Each service needs a name of its own.
    ///
    /// ## Fix
    /// Rename one of them in `metadata.name`.
    SCORE013 "duplicate-workload" Error;
};
