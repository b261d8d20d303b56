//! Property test: model -> compose -> import -> model is the identity on the fields
//! compose can express. 300 random applications from a fixed seed; the compose
//! emitter's own additions (`APP_ENV`, `<DEP>_URL`, `<SECRET>_FILE`, the `/tmp` tmpfs
//! of read-only containers) are set aside before comparing.

use slipway_diagnostics::SourceFile;
use slipway_emit::{emit, EmitRequest, ServiceLayout, Templates};
use slipway_import::compose::{import_compose, ComposeOptions};
use slipway_model::{
    App, Health, HealthTiming, Limits, PerEnv, Service, ServiceSource, VolumeKind, VolumeMount,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// xorshift64*: a small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[usize::try_from(self.below(items.len() as u64)).unwrap()]
    }
}

const WORDS: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "web", "api", "worker", "queue", "store", "edge",
];
const VALUES: &[&str] = &[
    "info",
    "true",
    "8080",
    "a b c",
    "x=y",
    "$HOME/bin",
    "it's",
    "\"quoted\"",
    "",
    "é-ü",
    "yes",
    "0.5",
    "null",
];

fn random_service(
    rng: &mut Rng,
    name: &str,
    earlier: &[String],
    used_ports: &mut Vec<u16>,
) -> Service {
    let mut svc = Service {
        name: name.to_string(),
        ..Service::default()
    };
    svc.source = if rng.chance(70) {
        ServiceSource::Image {
            image: format!(
                "registry.example.com/{}:{}.{}",
                rng.pick(WORDS),
                rng.below(10),
                rng.below(10)
            ),
        }
    } else {
        ServiceSource::Dockerfile {
            context: format!("./{name}"),
            dockerfile: Some("Dockerfile".into()),
            target: rng.chance(50).then(|| "runtime".into()),
            args: BTreeMap::new(),
        }
    };
    if rng.chance(80) {
        let mut port = 1000 + u16::try_from(rng.below(5000)).unwrap();
        while used_ports.contains(&port) {
            port += 7;
        }
        used_ports.push(port);
        svc.port = Some(port);
        if rng.chance(20) {
            svc.internal = true;
        } else {
            svc.host_port = Some(port);
        }
        if rng.chance(30) {
            svc.extra_ports = vec![port + 1];
        }
    }
    for i in 0..rng.below(4) {
        svc.env
            .insert(format!("VAR_{i}"), rng.pick(VALUES).to_string());
    }
    if rng.chance(30) {
        svc.secret_env = vec!["SERVICE_PASSWORD".into()];
    }
    if rng.chance(30) {
        svc.secrets = vec!["SIGNING_KEY".into()];
    }
    for dep in earlier {
        if rng.chance(30) {
            svc.depends_on.push(dep.clone());
        }
    }
    if rng.chance(60) {
        svc.health = Some(Health::Command {
            command: vec![
                "sh".into(),
                "-c".into(),
                format!("test -f /tmp/{} || echo $PATH", rng.pick(WORDS)),
            ],
        });
    }
    if rng.chance(50) {
        svc.replicas = PerEnv::all(1 + u32::try_from(rng.below(4)).unwrap());
    }
    if rng.chance(50) {
        let cpu = rng.pick(&["250m", "500m", "1", "1500m", "2"]).to_string();
        let memory = rng.pick(&["128Mi", "256Mi", "1Gi", "1536Mi"]).to_string();
        svc.resources = PerEnv::all(Limits {
            cpu: Some(cpu),
            memory: Some(memory),
        });
    }
    if rng.chance(40) {
        svc.command = Some(vec![
            "serve".into(),
            "--name".into(),
            rng.pick(VALUES).to_string(),
        ]);
    }
    if rng.chance(20) {
        svc.entrypoint = Some(vec!["/bin/entry".into()]);
    }
    if rng.chance(30) {
        svc.user = Some(format!(
            "{}:{}",
            1000 + rng.below(100),
            1000 + rng.below(100)
        ));
    }
    if rng.chance(40) {
        svc.volumes.push(VolumeMount {
            kind: VolumeKind::Named,
            source: format!("{name}-data"),
            target: "/var/lib/data".into(),
            read_only: false,
            size: None,
        });
    }
    if rng.chance(30) {
        svc.volumes.push(VolumeMount {
            kind: VolumeKind::Bind,
            source: "./config".into(),
            target: "/etc/app".into(),
            read_only: true,
            size: None,
        });
    }
    if rng.chance(30) {
        svc.volumes.push(VolumeMount {
            kind: VolumeKind::Tmpfs,
            source: String::new(),
            target: "/scratch".into(),
            read_only: false,
            size: None,
        });
    }
    svc
}

fn random_app(rng: &mut Rng) -> App {
    let mut app = App {
        name: "roundtrip".into(),
        environments: vec!["dev".into(), "staging".into(), "prod".into()],
        targets: vec!["compose".into()],
        ..App::default()
    };
    let mut names: Vec<String> = Vec::new();
    let mut ports = Vec::new();
    for i in 0..=rng.below(5) {
        let name = format!("{}-{i}", rng.pick(WORDS));
        let svc = random_service(rng, &name, &names, &mut ports);
        names.push(name.clone());
        app.services.insert(name, svc);
    }
    app
}

/// The fields compliance is judged on, with the emitter's additions set aside.
fn comparable(app: &App) -> Vec<String> {
    app.services
        .values()
        .map(|s| {
            let mut s = s.clone();
            s.trace = slipway_model::Trace::default();
            s.env
                .retain(|k, _| k != "APP_ENV" && !k.ends_with("_URL") && !k.ends_with("_FILE"));
            s.volumes.retain(|v| v.target != "/tmp");
            // What the compose importer records besides (every published port, the
            // networks, each dependency's condition), and the emitter's default timing.
            s.published.clear();
            if s.networks == ["default"] {
                s.networks.clear();
            }
            s.depends_on_condition.clear();
            let emitter_timing = HealthTiming {
                interval_ms: Some(10_000),
                timeout_ms: Some(5_000),
                retries: Some(5),
                start_period_ms: Some(20_000),
            };
            if s.health_timing == emitter_timing {
                s.health_timing = HealthTiming::default();
            }
            if s.replicas.default == Some(1) || s.replicas.default.is_none() {
                s.replicas = PerEnv::default();
            }
            // The prod override always sets limits; 500m / 512Mi are its defaults.
            let defaults = Limits {
                cpu: Some("500m".into()),
                memory: Some("512Mi".into()),
            };
            if s.resources.default.as_ref() == Some(&defaults) {
                s.resources = PerEnv::default();
            }
            format!("{s:#?}")
        })
        .collect()
}

#[test]
fn compose_round_trip_preserves_what_compose_can_express() {
    let templates = Templates::new(None).unwrap();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for case in 0..300 {
        let app = random_app(&mut rng);
        let mut req = EmitRequest {
            source: "slipway.yaml".into(),
            input_dir: ".".into(),
            build_id: "test".into(),
            ..Default::default()
        };
        for s in app.services.values() {
            if let ServiceSource::Dockerfile { context, .. } = &s.source {
                req.layout.insert(
                    s.name.clone(),
                    ServiceLayout {
                        context: context.clone(),
                        dockerfile: "Dockerfile".into(),
                    },
                );
            }
        }
        let out = emit(&app, &req, &templates);
        assert!(
            !out.diagnostics.has_errors(),
            "case {case}: {:?}",
            out.diagnostics
        );
        let files: Vec<Arc<SourceFile>> = [
            "compose/docker-compose.yaml",
            "compose/docker-compose.prod.yaml",
        ]
        .iter()
        .map(|p| Arc::new(SourceFile::new(*p, out.files.files[*p].clone())))
        .collect();
        let back = import_compose(
            &files,
            &ComposeOptions {
                default_name: "roundtrip".into(),
                ..Default::default()
            },
        );
        let Some(imported) = back.app else {
            panic!(
                "case {case}: import failed: {:?}\n{}",
                back.diagnostics, files[0].text
            );
        };
        let (want, got) = (comparable(&app), comparable(&imported));
        assert_eq!(want, got, "case {case}\n{}", files[0].text);
    }
}
