//! `check --deep`: also runs the real tools that are installed (hadolint,
//! shellcheck, `docker compose config` / `docker-compose config`, `kubectl
//! kustomize`) and folds their findings in, with rule ids marked by the tool
//! (`hadolint:DL3008`). A tool that is not installed is skipped and said so.

use crate::tree::{Kind, Monitoring, Tree};
use slipway_diagnostics::{Diagnostic, Severity, SourceFile, Span};
use std::path::Path;
use std::process::Command;

/// A finding of an external tool at a 1-based line and column.
fn at(
    tool: &str,
    code: &str,
    severity: Severity,
    file: &SourceFile,
    line: usize,
    col: usize,
    message: &str,
) -> Diagnostic {
    let start = file.lines.offset(&file.text, line.max(1), col.max(1));
    let end = file.text[start..]
        .find('\n')
        .map_or(file.text.len(), |e| start + e);
    Diagnostic::new(
        &format!("{tool}:{code}"),
        severity,
        format!("[{tool}] {message}"),
    )
    .at(&file.name, Span::new(start, end.max(start)))
}

/// A 1-based position from a tool's JSON (1 when missing or absurd).
fn num(v: &serde_json::Value) -> usize {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(1)
}

fn installed(tool: &str) -> bool {
    let probe: &[&str] = if tool == "kubectl" {
        &["version", "--client"]
    } else {
        &["--version"]
    };
    Command::new(tool)
        .args(probe)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs a tool that reports a JSON array of `{line, column, level, message}` items
/// (hadolint, shellcheck) and turns each item into a finding named by `code`.
fn json_tool(
    tool: &str,
    args: &[&str],
    path: &Path,
    file: &SourceFile,
    code: impl Fn(&serde_json::Value) -> String,
) -> Vec<Diagnostic> {
    let Ok(o) = Command::new(tool).args(args).arg(path).output() else {
        return Vec::new();
    };
    let items: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap_or_default();
    items
        .iter()
        .map(|i| {
            at(
                tool,
                &code(i),
                severity(i["level"].as_str().unwrap_or("")),
                file,
                num(&i["line"]),
                num(&i["column"]),
                i["message"].as_str().unwrap_or(""),
            )
        })
        .collect()
}

/// The failure lines of promtool or amtool output, and the first `L:C:` position
/// they name (promtool reports rule-file errors as `file: 11:15: group ...`).
fn tool_failure(text: &str) -> (usize, usize, String) {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && *l != "FAILED:"
                && !l.starts_with("amtool: error: failed to validate")
                && (l.contains("FAILED") || l.contains("error") || l.contains("Error"))
        })
        .collect();
    let mut pos = (1, 1);
    'find: for l in &lines {
        for part in l.split(": ") {
            let mut nums = part.trim_end_matches(':').split(':');
            if let (Some(a), Some(b), None) = (nums.next(), nums.next(), nums.next()) {
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    pos = (a, b);
                    break 'find;
                }
            }
        }
    }
    let msg = if lines.is_empty() {
        text.trim().to_string()
    } else {
        lines.join(" ")
    };
    (pos.0, pos.1, msg)
}

fn severity(level: &str) -> Severity {
    match level {
        "error" => Severity::Error,
        "warning" => Severity::Warning,
        _ => Severity::Info,
    }
}

/// Runs the tools over the tree's files (found again on disk by their shown names).
pub fn run(tree: &Tree, carried: &[Diagnostic]) -> (Vec<Diagnostic>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let (hadolint, shellcheck) = (installed("hadolint"), installed("shellcheck"));
    for f in &tree.files {
        let Some(path) = tree.disk_path(&f.source.name) else {
            continue;
        };
        match &f.kind {
            Kind::Dockerfile(_) if hadolint => {
                out.extend(json_tool(
                    "hadolint",
                    &["-f", "json", "--no-fail"],
                    &path,
                    &f.source,
                    |i| i["code"].as_str().unwrap_or("?").to_string(),
                ));
            }
            Kind::Shell if shellcheck => {
                out.extend(json_tool(
                    "shellcheck",
                    &["-f", "json"],
                    &path,
                    &f.source,
                    |i| format!("SC{}", i["code"].as_u64().unwrap_or(0)),
                ));
            }
            Kind::Monitoring { what, .. } => {
                let (tool, args): (&str, &[&str]) = match what {
                    Monitoring::Prometheus => ("promtool", &["check", "config"]),
                    Monitoring::Rules => ("promtool", &["check", "rules"]),
                    Monitoring::Alertmanager => ("amtool", &["check-config"]),
                };
                if !installed(tool) {
                    let note = format!(
                        "{tool} is not installed; monitoring files were checked by slipway only"
                    );
                    if !notes.contains(&note) {
                        notes.push(note);
                    }
                    continue;
                }
                let Ok(o) = Command::new(tool).args(args).arg(&path).output() else {
                    continue;
                };
                if !o.status.success() {
                    let text = format!(
                        "{}{}",
                        String::from_utf8_lossy(&o.stdout),
                        String::from_utf8_lossy(&o.stderr)
                    );
                    let (line, col, msg) = tool_failure(&text);
                    out.push(at(
                        tool,
                        "check",
                        Severity::Error,
                        &f.source,
                        line,
                        col,
                        &msg,
                    ));
                }
            }
            Kind::Compose {
                is_override: false, ..
            } => {
                if let Some(d) = compose_config(&f.source, &path) {
                    out.push(d);
                }
            }
            _ => {}
        }
    }
    if !hadolint {
        notes.push(
            "hadolint is not installed; Dockerfiles were checked by slipway only".to_string(),
        );
    }
    if !shellcheck {
        notes.push("shellcheck is not installed; scripts were checked by slipway only".to_string());
    }
    if installed("kubectl") {
        out.extend(overlays(tree, carried));
    } else {
        notes.push("kubectl is not installed; kustomizations were not built (K8S021)".to_string());
    }
    (out, notes)
}

/// K8S021: every kustomization builds, and what it renders passes the Kubernetes
/// rules. A build failure points at the kustomization; findings on rendered objects
/// are folded onto their source files by `overlay::fold`, minus those the sources
/// already carry (`carried`).
fn overlays(tree: &Tree, carried: &[Diagnostic]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for k in &tree.kustomizations {
        let Some(disk) = tree
            .disk_path(&k.file.name)
            .and_then(|p| p.parent().map(Path::to_path_buf))
        else {
            continue;
        };
        let first_line = Span::new(0, k.file.text.find('\n').unwrap_or(k.file.text.len()));
        let Ok(o) = Command::new("kubectl").arg("kustomize").arg(&disk).output() else {
            continue;
        };
        if !o.status.success() {
            let msg = String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .unwrap_or("kustomize failed")
                .to_string();
            out.push(
                Diagnostic::error(
                    "K8S021",
                    format!("`{}` does not build: {msg}", k.dir.display()),
                )
                .at(&k.file.name, first_line),
            );
            continue;
        }
        let rendered = String::from_utf8_lossy(&o.stdout);
        out.extend(crate::overlay::fold(
            tree,
            k,
            &rendered,
            carried,
            is_base_of_another(tree, &k.dir),
        ));
    }
    out
}

/// Whether some other kustomization in the tree lists `dir` among its `resources:`.
fn is_base_of_another(tree: &Tree, dir: &Path) -> bool {
    tree.kustomizations
        .iter()
        .any(|other| other.dir != dir && other.resources.iter().any(|r| r == dir))
}

/// `docker compose config -q` (v2) or `docker-compose config -q` (v1) on one file.
fn compose_config(file: &SourceFile, path: &Path) -> Option<Diagnostic> {
    let dir = path.parent()?;
    let v2 = Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut cmd = if v2 {
        let mut c = Command::new("docker");
        c.arg("compose");
        c
    } else if installed("docker-compose") {
        Command::new("docker-compose")
    } else {
        return None;
    };
    let o = cmd
        .current_dir(dir)
        .arg("-f")
        .arg(path.file_name()?)
        .args(["config", "-q"])
        .output()
        .ok()?;
    if o.status.success() {
        return None;
    }
    let msg = String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| !l.contains("is not set"))
        .collect::<Vec<_>>()
        .join(" ");
    if msg.trim().is_empty() {
        return None;
    }
    Some(
        Diagnostic::error("compose:config", format!("[compose] {}", msg.trim()))
            .at(&file.name, Span::new(0, file.text.find('\n').unwrap_or(0))),
    )
}

#[cfg(test)]
mod tests {
    use super::{is_base_of_another, tool_failure};
    use crate::kustomize::normalize;
    use crate::tree::Tree;
    use std::path::Path;

    #[test]
    fn a_base_is_recognised_through_an_overlays_resources() {
        assert_eq!(
            normalize(Path::new("k/overlays/prod/../../base")),
            Path::new("k/base")
        );
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("k");
        for (p, t) in [
            ("base/kustomization.yaml", "resources:\n  - app.yaml\n"),
            (
                "base/app.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n",
            ),
            (
                "overlays/prod/kustomization.yaml",
                "namespace: shop\nresources:\n  - ../../base\n",
            ),
        ] {
            std::fs::create_dir_all(k.join(p).parent().unwrap()).unwrap();
            std::fs::write(k.join(p), t).unwrap();
        }
        let tree = Tree::load(&[k]);
        let names: Vec<_> = tree
            .kustomizations
            .iter()
            .map(|k| k.file.name.clone())
            .collect();
        let base = Path::new(names.iter().find(|n| n.contains("base")).unwrap())
            .parent()
            .unwrap()
            .to_path_buf();
        let prod = Path::new(names.iter().find(|n| n.contains("prod")).unwrap())
            .parent()
            .unwrap()
            .to_path_buf();
        assert!(is_base_of_another(&tree, &base), "{names:?}");
        assert!(!is_base_of_another(&tree, &prod), "{names:?}");
    }

    #[test]
    fn promtool_rule_errors_keep_their_position() {
        let out = "Checking rules/api.yml\n  FAILED:\nrules/api.yml: 11:15: group \"availability\", rule 2, \"x\": could not parse expression: 1:44: parse error: unclosed left parenthesis\n";
        let (line, col, msg) = tool_failure(out);
        assert_eq!((line, col), (11, 15));
        assert!(msg.contains("unclosed left parenthesis"), "{msg}");
        assert!(!msg.contains("Checking"), "{msg}");
    }

    #[test]
    fn config_errors_without_a_position_point_at_the_top() {
        let out = "Checking 'am.yml'  FAILED: notification config name \"tickets\" is not unique\n\namtool: error: failed to validate 1 file(s)\n";
        let (line, col, msg) = tool_failure(out);
        assert_eq!((line, col), (1, 1));
        assert!(
            msg.contains("is not unique") && !msg.contains("failed to validate"),
            "{msg}"
        );
    }
}
