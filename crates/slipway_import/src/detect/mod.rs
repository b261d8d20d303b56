//! Language detection: a source folder -> a `BuildPlan`. One detector per language
//! (one file each, the start-command conventions of the bigger ones beside it); each
//! reads only the manifests it knows, with a size cap, and says which fields it had to
//! guess. A start command always names a file that exists in the folder or that the
//! build step writes; when none can be found the plan has no start command and a note
//! says why. Detection never executes anything.

mod folder;
mod go;
mod gradle;
mod java;
mod node;
mod node_start;
mod python;
mod python_start;
mod rust;

pub use folder::Folder;

use slipway_model::BuildPlan;
use std::path::Path;

/// One language's detector.
pub trait Detector {
    /// The plan for `folder`, or `None` when this language does not apply.
    fn detect(&self, folder: &Folder) -> Option<BuildPlan>;
}

/// In priority order: a folder with both a `pyproject.toml` and a `package.json` is a
/// Python app with front-end assets, not a Node app.
const DETECTORS: &[&dyn Detector] = &[
    &rust::RustDetector,
    &go::GoDetector,
    &java::JavaDetector,
    &python::PythonDetector,
    &node::NodeDetector,
];

/// The build plan for one folder, if any language is recognised.
#[must_use]
pub fn detect_folder(dir: &Path) -> Option<BuildPlan> {
    let folder = Folder::open(dir);
    DETECTORS.iter().find_map(|d| d.detect(&folder))
}

/// A service found under a root folder.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Detected {
    /// Suggested service name (a DNS label made from the folder name).
    pub name: String,
    /// Folder relative to the root, `.` for the root itself.
    pub path: String,
    pub plan: BuildPlan,
}

const SKIP: &[&str] = &[
    "node_modules",
    "target",
    "vendor",
    "dist",
    "build",
    "venv",
    ".venv",
    "infrastructure",
    "__pycache__",
];

/// Every service under `root`: the root itself if it is one, else its sub-folders
/// (two levels deep), sorted by path.
#[must_use]
pub fn discover(root: &Path) -> Vec<Detected> {
    let root_name = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "app".into());
    let root_plan = detect_folder(root);
    match root_plan {
        // A workspace root that starts nothing itself: its packages are the services.
        Some(plan) if !plan.start.is_empty() || plan.members.is_empty() => {
            return vec![Detected {
                name: service_name(&root_name),
                path: ".".into(),
                plan,
            }];
        }
        _ => {}
    }
    let workspace = root_plan.is_some();
    let mut found = Vec::new();
    walk(root, root, 0, &mut found);
    if workspace {
        // Libraries of the workspace are not services, even when `main` names a file.
        found.retain(|d| {
            !d.plan.start.is_empty()
                && (d.plan.language != slipway_model::Language::Node
                    || node_start::is_app(&Folder::open(&root.join(&d.path))))
        });
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    // Names must be unique: a clash keeps the parent folder as a prefix.
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for d in &found {
        *seen.entry(d.name.clone()).or_default() += 1;
    }
    for d in &mut found {
        if seen[&d.name] > 1 {
            d.name = service_name(&d.path.replace('/', "-"));
        }
    }
    found
}

fn walk(root: &Path, dir: &Path, depth: usize, found: &mut Vec<Detected>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut dirs: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for sub in dirs {
        let name = sub
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || SKIP.contains(&name.as_str()) {
            continue;
        }
        if let Some(plan) = detect_folder(&sub) {
            let rel = sub
                .strip_prefix(root)
                .unwrap_or(&sub)
                .to_string_lossy()
                .replace('\\', "/");
            found.push(Detected {
                name: service_name(&name),
                path: rel,
                plan,
            });
        } else if depth < 1 {
            walk(root, &sub, depth + 1, found);
        }
    }
}

/// A folder name made into a DNS label (`My_API` -> `my-api`).
#[must_use]
pub fn service_name(folder: &str) -> String {
    let s: String = folder
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s
        .trim_matches('-')
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let s = if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("svc-{s}")
    } else {
        s
    };
    let s: String = s.chars().take(63).collect();
    if s.is_empty() {
        "app".into()
    } else {
        s.trim_end_matches('-').to_string()
    }
}

/// The first major.minor (or major) version number in a constraint such as
/// `>=3.11,<4`, `^3.10`, `~=3.12.1`, `v18.17.0`.
#[must_use]
pub(crate) fn version_in(constraint: &str, parts: usize) -> Option<String> {
    let start = constraint.find(|c: char| c.is_ascii_digit())?;
    let tail = &constraint[start..];
    let end = tail
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(tail.len());
    let v: Vec<&str> = tail[..end]
        .split('.')
        .filter(|p| !p.is_empty())
        .take(parts)
        .collect();
    (!v.is_empty()).then(|| v.join("."))
}

/// Ports of well-known backing services: a literal one in source is a connection
/// string, not the port the app listens on.
const CLIENT_PORTS: &[u16] = &[3306, 5432, 5672, 6379, 9200, 11211, 27017, 4222];

/// A port number in source text next to a hint such as `PORT` or `listen(`.
#[must_use]
pub(crate) fn port_in(text: &str) -> Option<u16> {
    const HINTS: &[&str] = &[
        "PORT ||",
        "PORT ??",
        "PORT:-",
        "${PORT:",
        "0.0.0.0:",
        "127.0.0.1:",
        "\"0.0.0.0\", ",
        "\"127.0.0.1\", ",
        "localhost:",
        "PORT\", \"",
        "PORT', '",
        "PORT\", ",
        "PORT', ",
        "port=",
        "port =",
        "listen(",
        ".listen(\":",
        "Addr: \":",
        "\":",
        "server.port=",
    ];
    for hint in HINTS {
        for (i, _) in text.match_indices(hint) {
            let rest = text[i + hint.len()..].trim_start_matches([' ', '"', '\'', ':']);
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(p) = digits.parse::<u16>() {
                if p >= 80 && digits.len() >= 4 && !CLIENT_PORTS.contains(&p) {
                    return Some(p);
                }
            }
        }
    }
    None
}

/// The `web:` command of a Heroku-style `Procfile`, and its argv: split on spaces
/// when it is a plain command, else run by `sh -c`.
#[must_use]
pub(crate) fn procfile_web(f: &Folder) -> Option<(String, Vec<String>)> {
    let text = f.read("Procfile")?;
    let cmd = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("web:"))
        .map(str::trim)
        .filter(|c| !c.is_empty())?;
    Some((cmd.to_string(), argv_of(cmd)))
}

/// A shell command line as argv: split on spaces when nothing in it needs a shell.
#[must_use]
pub(crate) fn argv_of(cmd: &str) -> Vec<String> {
    if cmd.contains(['&', '|', ';', '$', '>', '<', '`', '"', '\'', '*', '(']) {
        vec!["sh".into(), "-c".into(), cmd.to_string()]
    } else {
        cmd.split_whitespace().map(ToString::to_string).collect()
    }
}

/// Paths in a command line that look like files (`dist/index.js`, `./start.sh`,
/// `src/main.py`), for the check that a start command names files that exist.
#[must_use]
pub(crate) fn file_args(cmd: &str) -> Vec<String> {
    const EXTS: &[&str] = &[
        ".js", ".mjs", ".cjs", ".ts", ".mts", ".py", ".sh", ".jar", ".rb",
    ];
    cmd.split(|c: char| c.is_whitespace() || matches!(c, '&' | '|' | ';' | '(' | ')'))
        .map(|t| t.trim_matches(['"', '\'']))
        .filter(|t| !t.starts_with('-') && !t.contains(['$', '*', '=']))
        .filter(|t| EXTS.iter().any(|e| t.ends_with(e)) && !t.contains("://"))
        .map(|t| t.trim_start_matches("./").to_string())
        .collect()
}

/// A health route string found in source text.
#[must_use]
pub(crate) fn health_in(text: &str) -> Option<String> {
    for path in [
        "/healthz",
        "/health",
        "/livez",
        "/readyz",
        "/ping",
        "/actuator/health",
    ] {
        for quote in ['"', '\'', '`'] {
            if text.contains(&format!("{quote}{path}{quote}"))
                || text.contains(&format!("{quote}{path}/{quote}"))
            {
                return Some(path.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_constraints() {
        assert_eq!(version_in(">=3.11,<4", 2).as_deref(), Some("3.11"));
        assert_eq!(version_in("^3.10", 2).as_deref(), Some("3.10"));
        assert_eq!(version_in("v18.17.0", 1).as_deref(), Some("18"));
        assert_eq!(version_in("any", 1), None);
    }

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(service_name("My_API"), "my-api");
        assert_eq!(service_name("2fa"), "svc-2fa");
        assert_eq!(service_name("__"), "app");
    }

    #[test]
    fn procfile_commands_become_argv() {
        assert_eq!(argv_of("python src/main.py"), vec!["python", "src/main.py"]);
        assert_eq!(
            argv_of("gunicorn app:app --bind 0.0.0.0:$PORT"),
            vec!["sh", "-c", "gunicorn app:app --bind 0.0.0.0:$PORT"]
        );
        assert_eq!(
            file_args("prisma migrate deploy && node ./dist/index.js --x"),
            vec!["dist/index.js"]
        );
        assert_eq!(file_args("echo $(node --version)"), Vec::<String>::new());
    }

    #[test]
    fn client_ports_and_env_defaults() {
        assert_eq!(port_in("server.port=${PORT:5000}"), Some(5000));
        assert_eq!(port_in("DATABASE_URL = \"localhost:5432\""), None);
        assert_eq!(port_in("const port = process.env.PORT ?? 8787"), Some(8787));
    }

    #[test]
    fn ports_and_health_from_source() {
        assert_eq!(
            port_in("const port = process.env.PORT || 3000;"),
            Some(3000)
        );
        assert_eq!(port_in("http.ListenAndServe(\":8081\", nil)"), Some(8081));
        assert_eq!(
            health_in("app.get('/healthz', h)").as_deref(),
            Some("/healthz")
        );
    }
}
