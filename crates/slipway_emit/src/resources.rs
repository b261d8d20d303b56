//! What each kind of backing resource needs, in one place for every emitter: its
//! image, data folder, server settings, health command, default limits, and the
//! connection settings a dependent service receives. The user it runs as and what it
//! writes are its image's hardening profile (`hardening`).

use crate::naming::{env_prefix, secret_file};
use slipway_model::{App, Resource, ResourceKind};

fn s(x: &str) -> String {
    x.to_string()
}

/// The secrets slipway creates for a resource (random values, never in files it writes).
#[must_use]
pub fn secrets(r: &Resource) -> Vec<String> {
    let base = secret_file(&r.name);
    match r.kind {
        ResourceKind::Postgres | ResourceKind::Mongodb | ResourceKind::Amqp => {
            vec![format!("{base}_password")]
        }
        ResourceKind::Mysql => vec![format!("{base}_password"), format!("{base}_root_password")],
        ResourceKind::Redis | ResourceKind::Nats => Vec::new(),
    }
}

/// The image as written before mirroring.
#[must_use]
pub fn image(r: &Resource) -> String {
    let v = &r.version;
    match r.kind {
        ResourceKind::Postgres => format!("postgres:{v}-bookworm"),
        ResourceKind::Redis => format!("redis:{v}-bookworm"),
        ResourceKind::Nats => format!("nats:{v}-alpine"),
        ResourceKind::Mysql => format!("mysql:{v}"),
        ResourceKind::Mongodb => format!("mongo:{v}"),
        ResourceKind::Amqp => format!("rabbitmq:{v}"),
    }
}

#[must_use]
pub fn data_dir(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Postgres => "/var/lib/postgresql/data",
        ResourceKind::Redis | ResourceKind::Nats => "/data",
        ResourceKind::Mysql => "/var/lib/mysql",
        ResourceKind::Mongodb => "/data/db",
        ResourceKind::Amqp => "/var/lib/rabbitmq",
    }
}

/// `app.kubernetes.io/component`.
#[must_use]
pub fn component(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Postgres | ResourceKind::Mysql | ResourceKind::Mongodb => "database",
        ResourceKind::Redis => "cache",
        ResourceKind::Nats | ResourceKind::Amqp => "messaging",
    }
}

/// Server environment: database name and user, passwords read from secret files.
#[must_use]
pub fn server_env(app: &App, r: &Resource) -> Vec<(String, String)> {
    let file = |name: String| format!("/run/secrets/{name}");
    let sec = secrets(r);
    let mut env = match r.kind {
        ResourceKind::Postgres => vec![
            (s("POSTGRES_DB"), app.name.clone()),
            (s("POSTGRES_PASSWORD_FILE"), file(sec[0].clone())),
            (s("POSTGRES_USER"), app.name.clone()),
        ],
        ResourceKind::Mysql => vec![
            (s("MYSQL_DATABASE"), app.name.clone()),
            (s("MYSQL_PASSWORD_FILE"), file(sec[0].clone())),
            (s("MYSQL_ROOT_PASSWORD_FILE"), file(sec[1].clone())),
            (s("MYSQL_USER"), app.name.clone()),
        ],
        ResourceKind::Mongodb => vec![
            (s("MONGO_INITDB_ROOT_PASSWORD_FILE"), file(sec[0].clone())),
            (s("MONGO_INITDB_ROOT_USERNAME"), app.name.clone()),
        ],
        // RabbitMQ 3.9 and later refuse `RABBITMQ_DEFAULT_PASS_FILE` (the image's
        // entrypoint exits on it): the password is read from the file by `command`.
        ResourceKind::Amqp => vec![(s("RABBITMQ_DEFAULT_USER"), app.name.clone())],
        ResourceKind::Redis | ResourceKind::Nats => Vec::new(),
    };
    env.sort();
    env
}

/// Server arguments, when the image's default needs changing.
#[must_use]
pub fn command(r: &Resource) -> Option<Vec<String>> {
    match r.kind {
        ResourceKind::Redis => Some(vec![s("redis-server"), s("--appendonly"), s("yes")]),
        ResourceKind::Nats => Some(vec![
            s("--jetstream"),
            s("--store_dir"),
            s("/data"),
            s("--http_port"),
            s("8222"),
        ]),
        // The password comes from the secret file into the server's environment at
        // start, through the image's own entrypoint (which still chowns and drops to
        // rabbitmq). No `$` in the script: compose and Kubernetes would both read one
        // as their own reference. A missing or empty file stops the start instead of
        // leaving the default guest account.
        ResourceKind::Amqp => {
            let file = format!("/run/secrets/{}", secrets(r)[0]);
            Some(vec![
                s("sh"),
                s("-c"),
                format!(
                    "[ -s {file} ] || {{ echo >&2 'error: {file} is missing or empty'; exit 1; }}; \
                     read -r RABBITMQ_DEFAULT_PASS < {file}; export RABBITMQ_DEFAULT_PASS; \
                     exec docker-entrypoint.sh rabbitmq-server"
                ),
            ])
        }
        _ => None,
    }
}

/// The health check, as argv run inside the container.
#[must_use]
pub fn health(app: &App, kind: ResourceKind) -> Vec<String> {
    match kind {
        ResourceKind::Postgres => vec![
            s("pg_isready"),
            s("-h"),
            s("127.0.0.1"),
            s("-U"),
            app.name.clone(),
            s("-d"),
            app.name.clone(),
        ],
        ResourceKind::Redis => vec![s("redis-cli"), s("ping")],
        ResourceKind::Nats => vec![
            s("wget"),
            s("-q"),
            s("-O"),
            s("/dev/null"),
            s("http://127.0.0.1:8222/healthz"),
        ],
        ResourceKind::Mysql => vec![
            s("mysqladmin"),
            s("ping"),
            s("-h"),
            s("127.0.0.1"),
            s("--silent"),
        ],
        ResourceKind::Mongodb => vec![
            s("mongosh"),
            s("--quiet"),
            s("--eval"),
            s("db.adminCommand('ping')"),
        ],
        ResourceKind::Amqp => vec![s("rabbitmq-diagnostics"), s("-q"), s("ping")],
    }
}

/// Default CPU and memory limits (Kubernetes units).
#[must_use]
pub fn limits(kind: ResourceKind) -> (&'static str, &'static str) {
    match kind {
        ResourceKind::Postgres
        | ResourceKind::Mysql
        | ResourceKind::Mongodb
        | ResourceKind::Amqp => ("1", "1Gi"),
        ResourceKind::Redis | ResourceKind::Nats => ("500m", "256Mi"),
    }
}

/// What a service that depends on `r` is given: plain settings and the secret files
/// it reads (names of secrets, mounted at `/run/secrets/<name>`).
#[must_use]
pub fn connection(app: &App, r: &Resource) -> (Vec<(String, String)>, Vec<String>) {
    let p = env_prefix(&r.name);
    let host = r.external.clone().unwrap_or_else(|| r.name.clone());
    let port = r.kind.port();
    let sec = secrets(r);
    let pw = |env: &mut Vec<(String, String)>| {
        env.push((
            format!("{p}_PASSWORD_FILE"),
            format!("/run/secrets/{}", sec[0]),
        ));
    };
    let mut env = Vec::new();
    match r.kind {
        ResourceKind::Postgres | ResourceKind::Mysql => {
            env.push((format!("{p}_HOST"), host));
            env.push((format!("{p}_PORT"), port.to_string()));
            env.push((format!("{p}_NAME"), app.name.clone()));
            env.push((format!("{p}_USER"), app.name.clone()));
            pw(&mut env);
        }
        ResourceKind::Redis => {
            env.push((format!("{p}_HOST"), host.clone()));
            env.push((format!("{p}_PORT"), port.to_string()));
            env.push((format!("{p}_URL"), format!("redis://{host}:{port}/0")));
        }
        ResourceKind::Nats => env.push((format!("{p}_URL"), format!("nats://{host}:{port}"))),
        ResourceKind::Mongodb | ResourceKind::Amqp => {
            env.push((format!("{p}_HOST"), host));
            env.push((format!("{p}_PORT"), port.to_string()));
            env.push((format!("{p}_USER"), app.name.clone()));
            pw(&mut env);
        }
    }
    let used = if matches!(r.kind, ResourceKind::Redis | ResourceKind::Nats) {
        Vec::new()
    } else {
        vec![sec[0].clone()]
    };
    (env, used)
}
