//! The `slipway` binary: argument parsing, output formats and exit codes. The work
//! itself is in `slipway_engine`. Data goes to stdout; diagnostics and logs to stderr.
//! Exit codes: 0 ok, 2 input or usage error.

mod commands;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "slipway",
    version,
    about = "Turns a description of an application into infrastructure: Dockerfiles, Compose, scripts, with a traceability manifest."
)]
struct Cli {
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
        /// Emit only this target (docker, compose, scripts, kubernetes); repeatable.
        #[arg(long = "target", value_name = "NAME")]
        targets: Vec<String>,
        /// Enable a compose profile; repeatable.
        #[arg(long = "profile", value_name = "NAME")]
        profiles: Vec<String>,
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
    /// Print a rule's documentation.
    Explain { rule: String },
    /// List every rule.
    Rules {
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Print the JSON Schema of slipway.yaml.
    Schema,
}

fn parse_image_map(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => Ok((from.trim().to_string(), to.trim().to_string())),
        _ => Err(format!("`{s}` is not FROM=TO (for example python:3.12-slim-bookworm=mirror.local/python:3.12-slim-bookworm)")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stderr())
        }
    };
    let result = match cli.command {
        Command::Init { dir, force } => commands::init(&dir, force),
        Command::Detect { dir, format } => commands::detect(&dir, format == Format::Json),
        Command::Generate {
            spec,
            from,
            files,
            targets,
            profiles,
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
                out,
                environment,
                image_map,
                templates,
                dry_run,
                force,
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
        Command::Explain { rule } => Ok(commands::explain(&rule)),
        Command::Rules { format } => commands::rules(format == Format::Json),
        Command::Schema => {
            print!("{}", slipway_import::spec::spec_schema());
            Ok(0)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
