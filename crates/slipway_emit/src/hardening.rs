//! Hardening that does not break images: which restrictions each container gets, in
//! one decision that the compose and Kubernetes emitters both read, so they stay in
//! step.
//!
//! - What slipway builds (a generated Dockerfile, or the project's own) gets all of
//!   it: every capability dropped, a read-only root filesystem with `/tmp` in memory,
//!   a numeric non-root user.
//! - A prebuilt image gets only what that image is known to survive. The official
//!   postgres, redis, mysql, mongo, rabbitmq, nats and nginx images have a profile
//!   below: the capabilities their entrypoint needs to fix ownership and switch to
//!   its own user, the paths they write outside their volumes, and that user.
//!   `crates/slipway_cli/tests/hardening.rs` deploys each on a real engine, on local
//!   stand-ins built from Debian packages (mysql on MariaDB; mongo is not, as Debian
//!   packages no MongoDB server: its profile rests on its entrypoint's source).
//! - Any other image keeps its capabilities (unless the input names a non-root user)
//!   and a writable root filesystem, and the user gets a note (GEN012) saying what
//!   was not applied and why.
//!
//! Kubernetes namespaces are generated with pod-security `restricted`, so every pod
//! runs as a numeric non-root user with all capabilities dropped whatever the image;
//! what follows the profile there is the user, the writable paths and
//! `readOnlyRootFilesystem`.
//!
//! Pure decisions over the model: no I/O, nothing about templates or file layout.

use crate::docker::APP_UID;
use slipway_diagnostics::{Diagnostic, Severity};
use slipway_model::{Resource, Service, ServiceSource};

/// What one official image is known to survive.
#[derive(Debug)]
pub(crate) struct ImageProfile {
    /// The image's name on Docker Hub (`postgres`); `library/postgres` and
    /// `docker.io/library/postgres` name the same image.
    pub name: &'static str,
    /// Capabilities its entrypoint needs when the container starts as root: it fixes
    /// the ownership of its data (`CHOWN`, `DAC_OVERRIDE` to read folders its own
    /// user made private, `FOWNER` to chmod them) and switches to its own user
    /// (`SETUID`, `SETGID`). Sorted.
    pub cap_add: &'static [&'static str],
    /// Where it writes outside its volumes: memory under a read-only root.
    pub writable: &'static [&'static str],
    /// The numeric user (uid, gid) its server runs as.
    pub user: (u32, u32),
    /// The user of its `alpine` variants, when different.
    pub alpine_user: Option<(u32, u32)>,
    /// It listens below 1024: run as non-root on Kubernetes it needs the pod sysctl
    /// `net.ipv4.ip_unprivileged_port_start=0` (allowed under pod-security restricted).
    pub low_port: bool,
}

/// The profiles, one per official image. Each entrypoint was read in the image's
/// repository (docker-library/*); the tests deploy each but mongo on a real engine.
pub(crate) const PROFILES: &[ImageProfile] = &[
    ImageProfile {
        // docker-entrypoint.sh: chmod 700 "$PGDATA", chown of "$PGDATA" and
        // /var/run/postgresql (its `find` reads the 0700 data folder on every
        // restart), then gosu postgres.
        name: "postgres",
        cap_add: &["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"],
        writable: &["/tmp", "/var/run/postgresql"],
        user: (999, 999),
        alpine_user: Some((70, 70)),
        low_port: false,
    },
    ImageProfile {
        // docker-entrypoint.sh: `find . ! -user redis -exec chown redis` in /data
        // (whose appendonlydir is 0700 after umask 0077), then gosu redis.
        name: "redis",
        cap_add: &["CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"],
        writable: &["/tmp"],
        user: (999, 999),
        alpine_user: Some((999, 1000)),
        low_port: false,
    },
    ImageProfile {
        // docker-entrypoint.sh: chown (and chmod) of the data, socket and
        // secure-file-priv folders, then gosu mysql.
        name: "mysql",
        cap_add: &["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"],
        writable: &["/tmp", "/var/lib/mysql-files", "/var/run/mysqld"],
        user: (999, 999),
        alpine_user: None,
        low_port: false,
    },
    ImageProfile {
        // docker-entrypoint.sh: chown of /data/db and of its own stdout/stderr, then
        // gosu mongodb; mongod's socket is in /tmp.
        name: "mongo",
        cap_add: &["CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"],
        writable: &["/tmp"],
        user: (999, 999),
        alpine_user: None,
        low_port: false,
    },
    ImageProfile {
        // docker-entrypoint.sh: chown of /var/lib/rabbitmq, then gosu rabbitmq; the
        // CLI (its healthcheck, run as root) reads the 0400 Erlang cookie.
        name: "rabbitmq",
        cap_add: &["CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"],
        writable: &["/tmp", "/var/log/rabbitmq"],
        user: (999, 999),
        alpine_user: Some((100, 101)),
        low_port: false,
    },
    ImageProfile {
        // The server runs as root, needs no capability and writes only its JetStream
        // store (a volume, or /tmp/nats by default); on Kubernetes any uid works.
        name: "nats",
        cap_add: &[],
        writable: &["/tmp"],
        user: (1000, 1000),
        alpine_user: None,
        low_port: false,
    },
    ImageProfile {
        // The master runs as root: binds port 80, creates /var/cache/nginx/*_temp and
        // chowns them to nginx, and starts its workers as nginx; pid in /var/run.
        name: "nginx",
        cap_add: &["CHOWN", "NET_BIND_SERVICE", "SETGID", "SETUID"],
        writable: &["/tmp", "/var/cache/nginx", "/var/run"],
        user: (101, 101),
        alpine_user: None,
        low_port: true,
    },
];

/// The profile of an image reference as written (before the mirror map), and
/// whether it is an `alpine` variant.
pub(crate) fn profile(reference: &str) -> Option<(&'static ImageProfile, bool)> {
    let no_digest = reference.split('@').next().unwrap_or(reference);
    let last_slash = no_digest.rfind('/').map_or(0, |i| i + 1);
    let (path, tag) = match no_digest[last_slash..].find(':') {
        Some(i) => (
            &no_digest[..last_slash + i],
            &no_digest[last_slash + i + 1..],
        ),
        None => (no_digest, ""),
    };
    let mut path = path.to_ascii_lowercase();
    for host in ["docker.io/", "index.docker.io/", "registry-1.docker.io/"] {
        if let Some(rest) = path.strip_prefix(host) {
            path = rest.to_string();
        }
    }
    let name = path.strip_prefix("library/").unwrap_or(&path);
    PROFILES
        .iter()
        .find(|p| p.name == name)
        .map(|p| (p, tag.contains("alpine")))
}

/// What one container gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hardening {
    /// Compose: `cap_drop: [ALL]`. (Kubernetes always drops ALL: see the module doc.)
    pub drop_all: bool,
    /// Compose: capabilities added back, sorted.
    pub cap_add: Vec<&'static str>,
    /// A read-only root filesystem (compose: in every environment but dev).
    pub read_only: bool,
    /// Paths kept writable in memory under the read-only root, sorted; `/tmp` always.
    pub writable: Vec<&'static str>,
    /// Kubernetes: the numeric user the pod runs as; `None` when unknown (the pod
    /// then runs as 10001 and GEN011 says so).
    pub k8s_user: Option<(u32, u32)>,
    /// Kubernetes: the pod sets `net.ipv4.ip_unprivileged_port_start=0`.
    pub low_port: bool,
    /// What was not applied and why, for the note.
    pub skipped: Vec<String>,
}

/// A `user:` that is root, or none at all (the image's own, most often root).
fn runs_as_root(user: Option<&str>) -> bool {
    user.is_none_or(|u| {
        let name = u.split(':').next().unwrap_or(u);
        name.is_empty() || name == "root" || name.trim_start_matches('0').is_empty()
    })
}

/// A numeric non-root `uid[:gid]`.
fn numeric_user(user: Option<&str>) -> Option<(u32, u32)> {
    let u = user?;
    let (uid, gid) = u.split_once(':').unwrap_or((u, u));
    let ids = (uid.parse::<u32>().ok()?, gid.parse::<u32>().ok()?);
    (ids.0 != 0).then_some(ids)
}

/// Everything: for what slipway builds.
fn full(k8s_user: Option<(u32, u32)>) -> Hardening {
    Hardening {
        drop_all: true,
        cap_add: Vec::new(),
        read_only: true,
        writable: vec!["/tmp"],
        k8s_user,
        low_port: false,
        skipped: Vec::new(),
    }
}

/// What a profiled image survives. `user` is the input's; `mounted` are the
/// container paths its volumes already cover (no second mount on them).
fn profiled(
    (p, alpine): (&'static ImageProfile, bool),
    user: Option<&str>,
    mounted: &[&str],
) -> Hardening {
    let as_root = runs_as_root(user);
    let mut writable: Vec<&'static str> = p
        .writable
        .iter()
        .copied()
        .filter(|w| !mounted.contains(w))
        .collect();
    writable.sort_unstable();
    Hardening {
        drop_all: true,
        // A container started as another user has no capability to use.
        cap_add: if as_root {
            p.cap_add.to_vec()
        } else {
            Vec::new()
        },
        read_only: true,
        writable,
        k8s_user: Some(numeric_user(user).unwrap_or(if alpine {
            p.alpine_user.unwrap_or(p.user)
        } else {
            p.user
        })),
        low_port: p.low_port,
        skipped: Vec::new(),
    }
}

/// An image without a profile: only what cannot break it.
fn unknown(user: Option<&str>) -> Hardening {
    let as_root = runs_as_root(user);
    let mut skipped = Vec::new();
    if as_root {
        skipped.push("`cap_drop: [ALL]` in compose (it may start as root and switch to its own user, which needs capabilities)".to_string());
    }
    skipped.push(
        "a read-only root filesystem (where it writes outside its volumes is unknown)".to_string(),
    );
    Hardening {
        drop_all: !as_root,
        cap_add: Vec::new(),
        read_only: false,
        writable: vec!["/tmp"],
        k8s_user: numeric_user(user),
        low_port: false,
        skipped,
    }
}

/// The hardening of a service's container.
pub(crate) fn for_service(svc: &Service) -> Hardening {
    let user = svc.user.as_deref();
    match &svc.source {
        ServiceSource::Build { .. } if svc.plan().is_some() => full(Some((APP_UID, APP_UID))),
        ServiceSource::Build { .. } | ServiceSource::Dockerfile { .. } => full(numeric_user(user)),
        ServiceSource::Image { image } => match profile(image) {
            Some(p) => {
                let mounted: Vec<&str> = svc.volumes.iter().map(|v| v.target.as_str()).collect();
                profiled(p, user, &mounted)
            }
            None => unknown(user),
        },
    }
}

/// The hardening of a backing resource's server (always an official image).
pub(crate) fn for_resource(r: &Resource) -> Hardening {
    let image = crate::resources::image(r);
    profile(&image).map_or_else(|| unknown(None), |p| profiled(p, None, &[]))
}

/// The note for a service whose image has no profile: what was not applied, why,
/// and what the user can do.
pub(crate) fn note(svc: &Service, h: &Hardening) -> Option<Diagnostic> {
    let ServiceSource::Image { image } = &svc.source else {
        return None;
    };
    if h.skipped.is_empty() {
        return None;
    }
    let names: Vec<&str> = PROFILES.iter().map(|p| p.name).collect();
    Some(
        Diagnostic::new(
            "GEN012",
            Severity::Info,
            format!(
                "service `{}` ({}): image `{image}` has no hardening profile, so it does not get {}",
                svc.name,
                svc.trace.location(),
                h.skipped.join(", nor ")
            ),
        )
        .in_file(&svc.trace.file)
        .help(format!(
            "profiles exist for the official {} images; if this image runs as a non-root user, set `user:` to its numeric uid and its capabilities are dropped too",
            names.join(", ")
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use slipway_model::{VolumeKind, VolumeMount};

    fn image(reference: &str, user: Option<&str>) -> Service {
        Service {
            name: "s".into(),
            source: ServiceSource::Image {
                image: reference.into(),
            },
            user: user.map(str::to_string),
            ..Service::default()
        }
    }

    #[test]
    fn official_names_match_in_every_spelling_and_others_do_not() {
        for r in [
            "postgres",
            "postgres:16",
            "postgres:16.4-bookworm@sha256:abc",
            "library/postgres:16",
            "docker.io/library/postgres",
            "index.docker.io/library/postgres:15-alpine",
        ] {
            assert_eq!(profile(r).map(|p| p.0.name), Some("postgres"), "{r}");
        }
        assert!(profile("postgres:15-alpine").unwrap().1);
        for r in [
            "bitnami/postgresql:16",
            "ghcr.io/example/postgres:1",
            "mirror.local/postgres:16",
            "postgresql",
            "redislabs/redismod",
            "nginxinc/nginx-unprivileged",
        ] {
            assert!(profile(r).is_none(), "{r}");
        }
    }

    #[test]
    fn a_profiled_image_started_as_root_gets_its_capabilities_back() {
        let h = for_service(&image("postgres:16", None));
        assert!(h.drop_all && h.read_only);
        assert_eq!(
            h.cap_add,
            ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
        );
        assert_eq!(h.writable, ["/tmp", "/var/run/postgresql"]);
        assert_eq!(h.k8s_user, Some((999, 999)));
        assert!(h.skipped.is_empty());
        assert_eq!(
            for_service(&image("postgres:16-alpine", None)).k8s_user,
            Some((70, 70))
        );
        let nginx = for_service(&image("nginx:1.27", Some("root")));
        assert!(nginx.cap_add.contains(&"NET_BIND_SERVICE") && nginx.low_port);
    }

    #[test]
    fn a_profiled_image_run_as_its_user_needs_no_capability() {
        for user in ["999:999", "postgres"] {
            let h = for_service(&image("postgres", Some(user)));
            assert!(h.drop_all && h.cap_add.is_empty() && h.read_only, "{user}");
        }
        assert_eq!(
            for_service(&image("redis:7", Some("1001:1001"))).k8s_user,
            Some((1001, 1001))
        );
    }

    #[test]
    fn a_volume_on_a_writable_path_is_not_mounted_twice() {
        let mut svc = image("nginx", None);
        svc.volumes.push(VolumeMount {
            kind: VolumeKind::Named,
            source: "cache".into(),
            target: "/var/cache/nginx".into(),
            read_only: false,
            size: None,
        });
        assert_eq!(for_service(&svc).writable, ["/tmp", "/var/run"]);
    }

    #[test]
    fn an_unknown_image_keeps_what_it_may_need_and_is_noted() {
        let h = for_service(&image("ghcr.io/example/gateway:2", None));
        assert!(!h.drop_all && !h.read_only && h.cap_add.is_empty());
        assert_eq!(h.k8s_user, None);
        let d = note(&image("ghcr.io/example/gateway:2", None), &h).unwrap();
        assert_eq!(d.rule_id, "GEN012");
        assert!(
            d.message.contains("`cap_drop: [ALL]`") && d.message.contains("read-only root"),
            "{}",
            d.message
        );
        // A stated non-root user: nothing to switch, so capabilities go.
        let h = for_service(&image("ghcr.io/example/worker:2", Some("1000:1000")));
        assert!(h.drop_all && !h.read_only);
        assert_eq!(h.k8s_user, Some((1000, 1000)));
        assert_eq!(h.skipped.len(), 1);
        assert!(for_service(&image("x/y", Some("0:0"))).skipped.len() == 2);
    }

    #[test]
    fn what_slipway_builds_gets_everything() {
        // Generated Dockerfiles (a plan) run as APP_UID: the golden snapshots show it.
        let own = Service {
            source: ServiceSource::Dockerfile {
                context: ".".into(),
                dockerfile: None,
                target: None,
                args: std::collections::BTreeMap::new(),
            },
            user: Some("1000".into()),
            ..Service::default()
        };
        let h = for_service(&own);
        assert!(h.drop_all && h.read_only && h.cap_add.is_empty());
        assert_eq!(h.writable, ["/tmp"]);
        assert_eq!(h.k8s_user, Some((1000, 1000)));
        assert!(note(&own, &h).is_none());
    }
}
