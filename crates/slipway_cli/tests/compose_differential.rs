//! The differential test of CMP001 against the reference (issue 11): every compose file
//! of `../shared/corpus/awesome-compose` and of compose-go's `testdata/` goes through
//! `check-jsonschema --builtin-schema vendor.compose-spec` and through `slipway check`
//! (CMP001, plus a file that does not parse as YAML). Both must give the same verdict
//! on every file, and on mutations of valid files (a block missing its required key, a
//! value of the wrong type, an unknown key). Where they legitimately differ, the class
//! of difference is listed in `DIFFERENCES` with its reason; a class that explains no
//! file fails the test, so the list stays short and true.
//!
//! Needs check-jsonschema (`scripts/setup-test-env.sh`), so it runs in the full test
//! command; skips with a message when `../shared/corpus` is absent (a user's clone).

mod support;

use slipway_diagnostics::SourceFile;
use slipway_import::yaml::{parse, Budget, Node};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::root;

/// A class of files on which the reference and slipway legitimately disagree.
struct Difference {
    class: &'static str,
    why: &'static str,
    applies: fn(&str) -> bool,
}

const DIFFERENCES: &[Difference] = &[Difference {
    class: "Compose's custom YAML tags (`!reset`, `!override`)",
    why: "Docker Compose accepts them (they reset or replace a value of the file it \
          extends); check-jsonschema's loader (ruamel.yaml, safe) cannot construct an \
          unknown tag and refuses the file. slipway follows Compose.",
    applies: |text| text.contains("!reset") || text.contains("!override"),
}];

fn check_jsonschema() -> PathBuf {
    let venv = std::env::var("SLIPWAY_TOOLS_VENV").unwrap_or_else(|_| "/opt/slipway-tools".into());
    let in_venv = Path::new(&venv).join("bin/check-jsonschema");
    if in_venv.is_file() {
        in_venv
    } else {
        PathBuf::from("check-jsonschema")
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

/// The corpus's compose files: each awesome-compose sample's compose file, and every
/// YAML file under a compose-go `testdata/` folder (all of them are compose files).
fn corpus_files(corpus: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    yaml_files(&corpus.join("awesome-compose"), &mut files);
    let mut go = Vec::new();
    yaml_files(&corpus.join("compose-go"), &mut go);
    files.extend(
        go.into_iter()
            .filter(|p| p.components().any(|c| c.as_os_str() == "testdata")),
    );
    files
}

/// `true` when check-jsonschema accepts the file, for each file.
fn reference(files: &[PathBuf]) -> Vec<bool> {
    let out = Command::new(check_jsonschema())
        .args(["--builtin-schema", "vendor.compose-spec", "-o", "JSON"])
        .args(files)
        .output()
        .unwrap_or_else(|e| {
            panic!("check-jsonschema could not run ({e}); run scripts/setup-test-env.sh")
        });
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check-jsonschema printed no JSON ({e}):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let bad: Vec<String> = ["errors", "parse_errors"]
        .iter()
        .flat_map(|k| v[k].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["filename"].as_str().map(ToString::to_string))
        .collect();
    files
        .iter()
        .map(|f| !bad.iter().any(|b| Path::new(b) == f))
        .collect()
}

/// slipway's verdict for each text: no CMP001 finding and no YAML problem. Each text is
/// checked as `case<i>/compose.yaml` (a base file: no override beside it).
fn slipway(texts: &[String]) -> Vec<(bool, String)> {
    let work = tempfile::tempdir().unwrap();
    for (i, t) in texts.iter().enumerate() {
        let dir = work.path().join(format!("case{i:03}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("compose.yaml"), t).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["check", "--format", "json"])
        .arg(work.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "slipway check printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut why: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in v["findings"].as_array().unwrap() {
        if f["rule_id"] == "CMP001" {
            let file = f["file"].as_str().unwrap_or("").to_string();
            why.entry(file)
                .or_default()
                .push(format!("{}:{}: {}", f["line"], f["column"], f["message"]));
        }
    }
    // A file that is not YAML is a problem, not a finding: stderr has
    // `error[SPEC001]: message`, then ` --> file:line:column`.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut last_error: Option<&str> = None;
    for line in stderr.lines() {
        if line.starts_with("error[") {
            last_error = Some(line);
        } else if let (Some(at), Some(e)) = (line.trim_start().strip_prefix("--> "), last_error) {
            let file = at.split(':').next().unwrap_or("").to_string();
            why.entry(file).or_default().push(format!("{at}: {e}"));
            last_error = None;
        }
    }
    (0..texts.len())
        .map(|i| {
            let name = format!("case{i:03}/compose.yaml");
            let found = why.get(&name).cloned().unwrap_or_default();
            (found.is_empty(), found.join("; "))
        })
        .collect()
}

fn corpus() -> Option<PathBuf> {
    let dir = root().join("../shared/corpus");
    if dir.join("awesome-compose").is_dir() && dir.join("compose-go").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: {} is absent (the corpus sits beside the project checkout; a user's clone has none)",
            dir.display()
        );
        None
    }
}

/// Compares the verdicts; returns the disagreements no documented class explains, and
/// marks the classes used.
fn compare(
    names: &[String],
    texts: &[String],
    want: &[bool],
    got: &[(bool, String)],
    used: &mut [bool],
) -> Vec<String> {
    let mut unexplained = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if want[i] == got[i].0 {
            continue;
        }
        if let Some(k) = DIFFERENCES.iter().position(|d| (d.applies)(&texts[i])) {
            used[k] = true;
            continue;
        }
        unexplained.push(format!(
            "{name}: check-jsonschema says {}, slipway says {} {}",
            if want[i] { "valid" } else { "invalid" },
            if got[i].0 { "valid" } else { "invalid" },
            got[i].1
        ));
    }
    unexplained
}

#[test]
#[ignore = "needs check-jsonschema (scripts/setup-test-env.sh)"]
fn cmp001_agrees_with_the_compose_spec_schema_on_the_corpus() {
    let Some(corpus) = corpus() else { return };
    let files = corpus_files(&corpus);
    assert!(
        files.len() >= 75,
        "only {} compose files found",
        files.len()
    );
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(&corpus).unwrap().display().to_string())
        .collect();
    let want = reference(&files);
    let got = slipway(&texts);
    // Both sides must see invalid files, or the comparison proves little.
    assert!(
        want.iter().any(|ok| !ok),
        "the reference found no invalid file"
    );
    let mut used = vec![false; DIFFERENCES.len()];
    let unexplained = compare(&names, &texts, &want, &got, &mut used);
    assert!(
        unexplained.is_empty(),
        "{} verdict(s) differ:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    for (d, used) in DIFFERENCES.iter().zip(used) {
        assert!(
            used,
            "documented difference `{}` explains no file: remove it ({})",
            d.class, d.why
        );
    }
}

/// The first service's key and value nodes, when the file has block-style services.
fn first_service(root: &Node) -> Option<(&Node, &Node)> {
    let services = root.get("services")?.as_map()?;
    let (k, v) = services.first()?;
    v.as_map()?.first()?;
    Some((k, v))
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |p| p + 1)
}

/// Mutations of a valid compose file, each one the reference must refuse.
fn mutations(text: &str) -> Vec<(&'static str, String)> {
    let docs = parse(&SourceFile::new("compose.yaml", text), Budget::default()).unwrap();
    let Some((_, body)) = docs.first().and_then(first_service) else {
        return Vec::new();
    };
    if text[body.span.start..].starts_with('{') {
        return Vec::new();
    }
    let (first_key, _) = &body.as_map().unwrap()[0];
    let ls = line_start(text, first_key.span.start);
    let indent = &text[ls..first_key.span.start];
    // A block without the key the schema requires in it, under a key the service
    // does not have yet (a repeated key would be refused for another reason).
    let missing = [
        ("extends", "extends: { file: other.yaml }"),
        ("depends_on", "depends_on: { other: { restart: true } }"),
        ("ulimits", "ulimits: { nofile: { soft: 1024 } }"),
    ]
    .into_iter()
    .find(|(key, _)| body.get(key).is_none())
    .map_or("", |(_, block)| block);
    let insert = |line: String| format!("{}{line}\n{}", &text[..ls], &text[ls..]);
    let mut out = vec![
        (
            "unknown service key",
            insert(format!("{indent}frobnicate: true")),
        ),
        ("unknown top-level key", format!("{text}\nfrobnicate: 1\n")),
        (
            "a block missing its required key",
            insert(format!("{indent}{missing}")),
        ),
        (
            "a number where a list goes",
            insert(format!("{indent}dns_search: 12")),
        ),
    ];
    if let Some(image) = body.get("image") {
        let mut t = text.to_string();
        t.replace_range(image.span.start..image.span.end, "[not, a, string]");
        out.push(("a list where a string goes", t));
    }
    if let Some(ports) = body
        .get("ports")
        .and_then(Node::as_seq)
        .filter(|p| !p.is_empty())
    {
        let mut t = text.to_string();
        t.replace_range(ports[0].span.start..ports[0].span.end, "{ target: [80] }");
        out.push(("a list where a port number goes", t));
    }
    out
}

#[test]
#[ignore = "needs check-jsonschema (scripts/setup-test-env.sh)"]
fn mutations_of_valid_files_keep_the_verdicts_equal() {
    let Some(corpus) = corpus() else { return };
    let samples = [
        "awesome-compose/nginx-flask-mysql/compose.yaml",
        "awesome-compose/react-express-mongodb/compose.yaml",
        "awesome-compose/wordpress-mysql/compose.yaml",
        "awesome-compose/prometheus-grafana/compose.yaml",
        "compose-go/cli/testdata/simple/compose.yaml",
        "compose-go/loader/testdata/compose-test-extends.yaml",
    ];
    let work = tempfile::tempdir().unwrap();
    let (mut names, mut texts, mut files) = (Vec::new(), Vec::new(), Vec::new());
    for s in samples {
        let text = std::fs::read_to_string(corpus.join(s)).unwrap();
        let muts = mutations(&text);
        assert!(muts.len() >= 4, "{s}: no block-style service to mutate");
        for (what, t) in muts {
            let f = work.path().join(format!("m{:03}.yaml", files.len()));
            std::fs::write(&f, &t).unwrap();
            files.push(f);
            names.push(format!("{s} with {what}"));
            texts.push(t);
        }
    }
    let want = reference(&files);
    let refused: Vec<&String> = names
        .iter()
        .zip(&want)
        .filter(|(_, ok)| **ok)
        .map(|(n, _)| n)
        .collect();
    assert!(
        refused.is_empty(),
        "mutations the reference accepts (not mutations): {refused:?}"
    );
    let got = slipway(&texts);
    let mut used = vec![false; DIFFERENCES.len()];
    let unexplained = compare(&names, &texts, &want, &got, &mut used);
    assert!(
        unexplained.is_empty(),
        "{} verdict(s) differ:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
}
