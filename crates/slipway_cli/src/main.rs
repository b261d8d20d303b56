//! The `slipway` binary: argument parsing, output formats and exit codes. The work
//! itself is in `slipway_engine`. Data goes to stdout; diagnostics and logs to stderr.
//! Exit codes: 0 ok, 2 input or usage error.

mod commands;
mod operate;
mod printer;
mod remote;

use clap::{Parser, Subcommand, ValueEnum};
use slipway_engine::{OpsError, StoreError};
use std::path::PathBuf;

/// mimalloc rather than glibc's malloc: `slipway check` on bench-check.py's
/// 1,100-file tree spent about a fifth of its time in malloc and free, spread over
/// both cores (BENCHMARKS.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "slipway",
    version,
    about = "Turns a description of an application into infrastructure (Dockerfiles, Compose, Kubernetes, scripts, a traceability manifest), checks it, deploys it on Docker Compose or Swarm, and watches it (status, drift, audit log, an HTTP agent)."
)]
struct Cli {
    /// The state store (deploy, status, drift, rollback, history): sqlite://PATH or
    /// postgres://…; default SLIPWAY_DATABASE_URL, else sqlite://.slipway/state.db.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Act through a remote agent (deploy, rollback, status, drift, history): http://HOST:PORT.
    #[arg(long, global = true, value_name = "URL")]
    agent: Option<String>,
    /// The agent's bearer token (default: SLIPWAY_AGENT_TOKEN).
    #[arg(long, global = true, value_name = "TOKEN")]
    token: Option<String>,
    /// Color in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum CheckFormat {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Detect the services under DIR and write a starter slipway.yaml.
    Init {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Overwrite an existing slipway.yaml.
        #[arg(long)]
        force: bool,
    },
    /// Show what slipway detects in DIR: language, package manager, version, start
    /// command, port and health path, and which of them were guessed.
    Detect {
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Generate the infrastructure described by SPEC: a slipway.yaml, a compose file,
    /// Score workloads or a level-10 manifest (chosen by file name, or --from).
    Generate {
        /// The input file.
        #[arg(default_value = "slipway.yaml")]
        spec: PathBuf,
        /// The importer, when the file name does not tell.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["spec", "compose", "score", "level10"]))]
        from: Option<String>,
        /// More input files, merged over the first in order (compose overrides,
        /// further Score workloads); repeatable.
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Emit only this target (docker, compose, scripts, kubernetes, monitoring); repeatable.
        #[arg(long = "target", value_name = "NAME")]
        targets: Vec<String>,
        /// Enable a compose profile; repeatable.
        #[arg(long = "profile", value_name = "NAME")]
        profiles: Vec<String>,
        /// Let compose `${VAR}` interpolation read this shell's environment (by
        /// default only `.env` and defaults are used, so nothing of the shell that runs
        /// `generate` ends up in the output).
        #[arg(long)]
        env_from_shell: bool,
        /// Output folder (default: infrastructure/ next to the spec).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The environment scripts default to; must be declared in the spec.
        #[arg(long = "env")]
        environment: Option<String>,
        /// Use image TO wherever FROM is referenced (registry mirror); repeatable.
        #[arg(long = "image-map", value_name = "FROM=TO", value_parser = parse_image_map)]
        image_map: Vec<(String, String)>,
        /// Folder of template overrides (same relative names as the built-in ones).
        #[arg(long)]
        templates: Option<PathBuf>,
        /// Print a unified diff of what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Overwrite files edited by hand since the last generation.
        #[arg(long)]
        force: bool,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Check Dockerfiles, compose files, Kubernetes YAML and shell scripts under PATH.
    /// Exit 0 clean, 1 findings at or above --fail-on, 2 usage or unreadable input.
    Check {
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
        /// `default`, `production-guardrails` (production rules become errors), or a
        /// profile file in YAML (extends, rules, exclude, ignore, cost budget, labels).
        #[arg(long, default_value = "default")]
        profile: String,
        #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
        /// The lowest severity that fails the run.
        #[arg(long, default_value = "warning", value_parser = clap::builder::PossibleValuesParser::new(["info", "warning", "error"]))]
        fail_on: String,
        /// Also run hadolint, shellcheck, compose config and kubectl kustomize where
        /// installed, and fold their findings in (rule ids `tool:CODE`).
        #[arg(long)]
        deep: bool,
    },
    /// Deploy SPEC on an engine: generate, build, plan, apply behind a lock, wait for
    /// health, roll back automatically when a health gate fails. Exit 0 deployed (or
    /// planned), 1 failed, rolled back or refused, 2 input error.
    Deploy {
        #[arg(default_value = "slipway.yaml")]
        spec: PathBuf,
        /// The environment (declared in the spec).
        #[arg(long = "env")]
        environment: String,
        #[arg(long, default_value = "compose", value_parser = clap::builder::PossibleValuesParser::new(slipway_engine::RUNTIMES))]
        runtime: String,
        /// Show what would change on the engine; apply nothing.
        #[arg(long)]
        plan: bool,
        /// `rolling`: one service at a time, each gated on health.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["rolling"]))]
        strategy: Option<String>,
        /// Default: derived from the spec, environment, runtime and project.
        #[arg(long)]
        deployment_id: Option<String>,
        /// The engine project (default: the spec's `name`).
        #[arg(long)]
        project: Option<String>,
        /// Use image TO wherever FROM is referenced; repeatable.
        #[arg(long = "image-map", value_name = "FROM=TO", value_parser = parse_image_map)]
        image_map: Vec<(String, String)>,
        /// Output folder for the generated files (default: infrastructure/ next to the spec).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Deploy generated files edited by hand as they are.
        #[arg(long)]
        adopt: bool,
        /// Regenerate generated files edited by hand.
        #[arg(long, conflicts_with = "adopt")]
        overwrite: bool,
        /// Seconds the health gates may take.
        #[arg(long, default_value_t = 180)]
        health_timeout: u64,
        /// Seconds any one engine call (build, up) may take before it is killed.
        #[arg(long, default_value_t = 900)]
        timeout: u64,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Put the last good release before deployment ID back on its target.
    Rollback {
        id: String,
        #[arg(long, default_value_t = 180)]
        health_timeout: u64,
        #[arg(long, default_value_t = 900)]
        timeout: u64,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// A deployment's current operation, health (from the engine now) and sync (from
    /// the latest drift scan). Default: the deployment operated on last.
    Status {
        id: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Compare what is deployed with what runs, and the generated files with what was
    /// generated. Exit 1 when anything drifted.
    Drift {
        id: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// The audit log (hash-chained), for one deployment or all.
    History {
        id: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Run the HTTP agent (see /openapi.json): generate, deploy, status, drift,
    /// audit, live events, metrics. Tokens: `NAME SCOPE SECRET` lines (scope read or
    /// deploy) from --tokens-file or SLIPWAY_AGENT_TOKENS; required unless listening
    /// on 127.0.0.1. Without tokens the agent is read-only except with the local
    /// deploy token it writes to DATA_DIR/local-token (0600).
    Serve {
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: std::net::SocketAddr,
        #[arg(long)]
        tokens_file: Option<PathBuf>,
        /// A folder whose specs `template_spec` may name by path; repeatable
        /// (default: the current folder).
        #[arg(long = "spec-root", value_name = "DIR")]
        spec_roots: Vec<PathBuf>,
        /// Requests, engine logs and inline specs.
        #[arg(long, default_value = ".slipway/agent")]
        data_dir: PathBuf,
        /// Largest request body accepted (bytes).
        #[arg(long, default_value_t = 1024 * 1024)]
        max_body_bytes: usize,
        /// Mutating calls per second per token.
        #[arg(long, default_value_t = 50)]
        rate_limit: u32,
        /// Event ring size (events).
        #[arg(long, default_value_t = 1_000_000)]
        ring_events: usize,
        #[arg(long, default_value_t = 1000)]
        max_subscribers: usize,
        /// Events published per second at most.
        #[arg(long, default_value_t = 10_000)]
        publish_rate: u32,
        /// Seconds any one engine call may take.
        #[arg(long, default_value_t = 900)]
        engine_timeout: u64,
        #[arg(long, default_value_t = 180)]
        health_timeout: u64,
        /// Seconds SIGTERM waits for running operations.
        #[arg(long, default_value_t = 30)]
        drain_timeout: u64,
        /// Days of events kept in the store (pruned hourly); the audit log is kept
        /// whole.
        #[arg(long, default_value_t = 7)]
        event_retention_days: u64,
        /// Export the infra.* spans over OTLP/HTTP JSON to this collector
        /// (http://HOST:PORT); default SLIPWAY_OTLP_ENDPOINT, else no export.
        #[arg(long, value_name = "URL")]
        otlp_endpoint: Option<String>,
        /// A DNS name the agent answers for in `Host` besides its listen address
        /// (behind a proxy, or listening on 0.0.0.0); repeatable.
        #[arg(long = "allowed-host", value_name = "NAME")]
        allowed_hosts: Vec<String>,
        /// Open connections at most; at the cap the idlest is closed.
        #[arg(long, default_value_t = 512)]
        max_connections: usize,
        /// Seconds a connection has to send a complete request head (also the
        /// keep-alive idle limit).
        #[arg(long, default_value_t = 10)]
        header_timeout_secs: u64,
        /// Seconds a request body has to arrive whole; else 408.
        #[arg(long, default_value_t = 30)]
        body_timeout_secs: u64,
    },
    /// Print the documentation of a rule or of a diagnostic code (SPEC, SCORE,
    /// L10, GEN, TPL).
    Explain { rule: String },
    /// List every rule.
    Rules {
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Also list the diagnostic codes of importers and generation (SPEC,
        /// SCORE, L10, GEN, TPL).
        #[arg(long)]
        all: bool,
    },
    /// Print the JSON Schema of slipway.yaml.
    Schema,
    /// Print a shell completion script: `slipway completions bash > /etc/bash_completion.d/slipway`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

fn parse_image_map(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => Ok((from.trim().to_string(), to.trim().to_string())),
        _ => Err(format!("`{s}` is not FROM=TO (for example python:3.12-slim-bookworm=mirror.local/python:3.12-slim-bookworm)")),
    }
}

/// `--color auto`, as the NO_COLOR and CLICOLOR conventions define it: a non-empty
/// `NO_COLOR` turns colour off, `CLICOLOR_FORCE` on, `CLICOLOR=0` off; otherwise
/// colour only when both output streams are terminals, so a pipe or a file gets
/// plain text.
fn auto_color() -> bool {
    use std::io::IsTerminal;
    if anstyle_query::no_color() {
        return false;
    }
    if anstyle_query::clicolor_force() {
        return true;
    }
    if anstyle_query::clicolor() == Some(false) {
        return false;
    }
    std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
        && anstyle_query::term_supports_color()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => auto_color(),
    };
    let db = cli.database_url.as_deref();
    let result = match cli.command {
        Command::Init { dir, force } => commands::init(&dir, force),
        Command::Detect { dir, format } => commands::detect(&dir, format == Format::Json),
        Command::Generate {
            spec,
            from,
            files,
            targets,
            profiles,
            env_from_shell,
            out,
            environment,
            image_map,
            templates,
            dry_run,
            force,
            format,
        } => {
            let opts = slipway_engine::GenerateOptions {
                spec,
                from: from.as_deref().and_then(slipway_engine::InputKind::parse),
                extra_inputs: files,
                targets,
                profiles,
                env_from_shell,
                out,
                environment,
                image_map,
                templates,
                dry_run,
                force,
                stage_in: None,
            };
            commands::generate(&opts, format == Format::Json, color)
        }
        Command::Check {
            paths,
            profile,
            format,
            fail_on,
            deep,
        } => {
            let fmt = match format {
                CheckFormat::Human => "human",
                CheckFormat::Json => "json",
                CheckFormat::Sarif => "sarif",
                CheckFormat::Github => "github",
            };
            commands::check(&paths, &profile, fmt, &fail_on, deep, color)
        }
        Command::Deploy {
            spec,
            environment,
            runtime,
            plan,
            strategy,
            deployment_id,
            project,
            image_map,
            out,
            adopt,
            overwrite,
            health_timeout,
            timeout,
            format,
        } => {
            let opts = slipway_engine::DeployOptions {
                spec,
                environment,
                runtime,
                plan_only: plan,
                rolling: strategy.is_some(),
                deployment_id,
                project,
                image_map,
                out,
                adopt,
                overwrite,
                health_timeout: Duration::from_secs(health_timeout),
                call_timeout: Duration::from_secs(timeout),
            };
            match &cli.agent {
                Some(url) => remote::Remote::new(url, cli.token.clone())
                    .and_then(|r| remote::deploy(&r, &opts, format == Format::Json)),
                None => operate::deploy(db, &opts, format == Format::Json, color),
            }
        }
        Command::Rollback {
            id,
            health_timeout,
            timeout,
            format,
        } => {
            let apply = slipway_engine::ApplyOptions {
                rolling: false,
                call_timeout: Duration::from_secs(timeout),
                health_deadline: Duration::from_secs(health_timeout),
            };
            match &cli.agent {
                Some(url) => remote::Remote::new(url, cli.token.clone())
                    .and_then(|r| remote::rollback(&r, &id, format == Format::Json)),
                None => operate::rollback(db, &id, &apply, format == Format::Json, color),
            }
        }
        Command::Status { id, format } => match &cli.agent {
            Some(url) => remote::Remote::new(url, cli.token.clone())
                .and_then(|r| remote::status(&r, id.as_deref(), format == Format::Json)),
            None => operate::status(db, id.as_deref(), format == Format::Json, color),
        },
        Command::Drift { id, format } => match &cli.agent {
            Some(url) => remote::Remote::new(url, cli.token.clone())
                .and_then(|r| remote::drift(&r, id.as_deref(), format == Format::Json)),
            None => operate::drift(db, id.as_deref(), format == Format::Json, color),
        },
        Command::History { id, format } => match &cli.agent {
            Some(url) => remote::Remote::new(url, cli.token.clone())
                .and_then(|r| remote::history(&r, id.as_deref(), format == Format::Json)),
            None => operate::history(db, id.as_deref(), format == Format::Json, color),
        },
        Command::Serve {
            listen,
            tokens_file,
            spec_roots,
            data_dir,
            max_body_bytes,
            rate_limit,
            ring_events,
            max_subscribers,
            publish_rate,
            engine_timeout,
            health_timeout,
            drain_timeout,
            event_retention_days,
            otlp_endpoint,
            allowed_hosts,
            max_connections,
            header_timeout_secs,
            body_timeout_secs,
        } => {
            let url = db.map_or_else(slipway_engine::database_url, str::to_string);
            let mut cfg = slipway_agent::AgentConfig::new(listen, data_dir, url);
            if !spec_roots.is_empty() {
                cfg.spec_roots = spec_roots;
            }
            cfg.max_body_bytes = max_body_bytes;
            cfg.mutating_per_sec = rate_limit;
            cfg.ring.max_events = ring_events;
            cfg.ring.max_subscribers = max_subscribers;
            cfg.ring.publish_per_sec = publish_rate;
            cfg.engine_timeout = Duration::from_secs(engine_timeout);
            cfg.health_timeout = Duration::from_secs(health_timeout);
            cfg.drain_timeout = Duration::from_secs(drain_timeout);
            cfg.event_retention = Duration::from_secs(event_retention_days.saturating_mul(86_400));
            cfg.otlp_endpoint =
                otlp_endpoint.or_else(|| std::env::var("SLIPWAY_OTLP_ENDPOINT").ok());
            cfg.allowed_hosts = allowed_hosts;
            cfg.max_connections = max_connections;
            cfg.header_timeout = Duration::from_secs(header_timeout_secs.max(1));
            cfg.body_timeout = Duration::from_secs(body_timeout_secs.max(1));
            operate::serve(cfg, tokens_file.as_deref())
        }
        Command::Explain { rule } => commands::explain(&rule),
        Command::Rules { format, all } => commands::rules(format == Format::Json, all),
        Command::Schema => printer::out(&slipway_import::spec::spec_schema())
            .map(|()| 0)
            .map_err(Into::into),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "slipway",
                &mut script,
            );
            printer::out(&String::from_utf8_lossy(&script))
                .map(|()| 0)
                .map_err(Into::into)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            // A store other processes kept busy is a refusal (exit 1), like a held
            // target: nothing was changed and trying again later is the remedy.
            if let Some(OpsError::Store(StoreError::Busy { .. })) = e.downcast_ref::<OpsError>() {
                eprintln!("refused: nothing was changed; try again once those operations end");
                return ExitCode::from(1);
            }
            ExitCode::from(2)
        }
    }
}
