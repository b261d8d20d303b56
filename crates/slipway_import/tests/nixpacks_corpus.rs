//! Detection against nixpacks on its own examples (`../shared/corpus/nixpacks`, 90
//! real apps; `snapshots/` holds the build plan nixpacks recorded for 82 of them).
//! For every app: slipway's language must be nixpacks's; the start command is compared
//! after both are reduced to what actually runs (a `npm run start` is the script it
//! runs, `./out` is the Go package built); every difference needs a written reason
//! below; and no start command may name a file that is not in the folder, not written
//! by the build and not installed by a dependency. The table is `docs/detection.md`:
//! refresh it with `SLIPWAY_REFRESH_DETECTION=1 cargo test -p slipway_import --test
//! nixpacks_corpus`. Without the corpus the test says so and passes.

use serde_json::Value;
use slipway_model::{BuildPlan, Language};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Why slipway's start command differs from nixpacks's, per app. A difference with no
/// reason here fails the test, and so does a reason for an app that agrees.
const DIFFERENCES: &[(&str, &str)] = &[
    ("node-monorepo", "nixpacks's command is not detection: the example's `test.env` sets `NIXPACKS_START_CMD=echo hello world`. The root is a workspace with no `start` script; slipway says so and detects `packages/*` as separate services"),
    ("node-python", "the folder holds only a `nixpacks.toml` that names the providers and the start command; there is no source file to detect, and slipway reports no service"),
    ("node-turborepo", "`turbo run start` would start every package's server in one container; slipway treats the workspace root as no service and detects each app under `apps/` as its own service"),
    ("node-react-router-v7-spa", "both serve the built `dist/` as static files; nixpacks adds the Caddy web server, slipway's image has only Node, so it uses the project's own Vite (`vite preview`, port 4173)"),
    ("node-vite-lit-ts", "both serve the built `dist/` as static files; nixpacks adds the Caddy web server, slipway's image has only Node, so it uses the project's own Vite (`vite preview`, port 4173)"),
    ("node-vite-preact-ts", "both serve the built `dist/` as static files; nixpacks adds the Caddy web server, slipway's image has only Node, so it uses the project's own Vite (`vite preview`, port 4173)"),
    ("node-vite-qwik-ts", "both serve the built `dist/` as static files; nixpacks adds the Caddy web server, slipway's image has only Node, so it uses the project's own Vite (`vite preview`, port 4173)"),
    ("node-vite-react-ts", "both serve the built `dist/` as static files; nixpacks adds the Caddy web server, slipway's image has only Node, so it uses the project's own Vite (`vite preview`, port 4173)"),
    ("node-vite-solid-ts", "both serve the build as static files; nixpacks adds Caddy; slipway runs `vite preview` on the folder the build script writes (`--outDir out`), port 4173"),
    ("node-vite-svelte-ts", "both serve the built `dist/` as static files; nixpacks adds the Caddy web server, slipway's image has only Node, so it uses the project's own Vite (`vite preview`, port 4173)"),
    ("node-vite-vanilla-ts", "both serve the built `dist/` as static files; nixpacks adds the Caddy web server, slipway's image has only Node, so it uses the project's own Vite (`vite preview`, port 4173)"),
    ("node-vite-vue-ts", "both serve the built `dist/` as static files; nixpacks adds the Caddy web server, slipway's image has only Node, so it uses the project's own Vite (`vite preview`, port 4173)"),
    ("python-django", "gunicorn is not in requirements.txt, so nixpacks's `gunicorn python_django.wsgi` has nothing to run; slipway runs Django's own server and notes that gunicorn should be added. Migrations are a release step, not part of every start"),
    ("python-django-mysql", "gunicorn is not in requirements.txt, so nixpacks's `gunicorn python_django.wsgi` has nothing to run; slipway runs Django's own server and notes that gunicorn should be added. Migrations are a release step, not part of every start"),
];

/// Measured agreement on apps whose nixpacks plan came from detection; the test fails
/// if a change lowers it.
const MIN_START_AGREEMENT: usize = 66;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/nixpacks")
}

fn doc_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/detection.md")
}

/// What nixpacks recorded for one app.
struct Nixpacks {
    providers: Vec<String>,
    start: Option<String>,
    build_cmds: Vec<String>,
}

fn nixpacks_plan(corpus: &Path, app: &str) -> Option<Nixpacks> {
    let snap = corpus
        .join("snapshots")
        .join(format!("{}.snap", app.replace('-', "_")));
    let text = std::fs::read_to_string(snap).ok()?;
    let json = text.splitn(3, "---").nth(2)?;
    let plan: Value = serde_json::from_str(json).ok()?;
    Some(Nixpacks {
        providers: plan["variables"]["NIXPACKS_METADATA"]
            .as_str()
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        start: plan["start"]["cmd"].as_str().map(String::from),
        build_cmds: plan["phases"]["build"]["cmds"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
    })
}

/// Whether nixpacks's start command was configured in the example rather than detected.
fn start_overridden(dir: &Path) -> bool {
    let toml = std::fs::read_to_string(dir.join("nixpacks.toml")).unwrap_or_default();
    let env = std::fs::read_to_string(dir.join("test.env")).unwrap_or_default();
    toml.contains("[start]") || env.contains("NIXPACKS_START_CMD")
}

/// Metadata entries that are tools or services rather than frameworks.
const NOT_FRAMEWORKS: &[&str] = &[
    "node", "python", "go", "java", "rust", "poetry", "pdm", "uv", "postgres", "mysql",
];

fn package_json(dir: &Path) -> Value {
    std::fs::read_to_string(dir.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null)
}

/// A command reduced to what runs: `python` is `python3`, `./x` is `x`, tools are
/// named without `node_modules/.bin/`, a leading `exec` is dropped.
fn norm(cmd: &str) -> String {
    cmd.split_whitespace()
        .map(|w| {
            let w = w.trim_start_matches("./");
            let w = w.strip_prefix("node_modules/.bin/").unwrap_or(w);
            if w == "python" {
                "python3"
            } else {
                w
            }
        })
        .skip_while(|w| *w == "exec")
        .collect::<Vec<_>>()
        .join(" ")
}

const PACKAGE_MANAGERS: &[&str] = &["npm", "yarn", "pnpm", "bun"];

/// `npm run start` -> the start script it runs.
fn expand_script(words: &[&str], pkg: &Value) -> Option<String> {
    match words {
        [pm, "run", name] | [pm, name] if PACKAGE_MANAGERS.contains(pm) && *name != "run" => {
            pkg["scripts"][name].as_str().map(norm)
        }
        _ => None,
    }
}

fn canon_nixpacks(n: &Nixpacks, pkg: &Value) -> String {
    let Some(cmd) = n.start.as_deref() else {
        return "(none)".into();
    };
    if cmd == "./out" {
        let built = n
            .build_cmds
            .iter()
            .find_map(|c| c.strip_prefix("go build -o out"))
            .map_or(".", str::trim);
        return format!(
            "go binary of {}",
            if built.is_empty() { "." } else { built }
        );
    }
    if cmd.contains("-jar") {
        let tool = if cmd.contains("build/libs") {
            "gradle"
        } else {
            "maven"
        };
        return format!("the jar {tool} builds");
    }
    let words: Vec<&str> = cmd.split_whitespace().collect();
    expand_script(&words, pkg).unwrap_or_else(|| norm(cmd))
}

fn canon_slipway(plan: &BuildPlan, pkg: &Value) -> String {
    let entry = plan.entry.clone().unwrap_or_default();
    match plan.language {
        _ if plan.start.is_empty() => "(none)".into(),
        Language::Go => format!("go binary of {entry}"),
        Language::Java => format!("the jar {} builds", plan.package_manager),
        Language::Rust => format!("cargo binary {entry}"),
        _ => {
            let words: Vec<&str> = plan.start.iter().map(String::as_str).collect();
            if let ["sh", "-c", cmd] = words.as_slice() {
                return norm(cmd);
            }
            expand_script(&words, pkg).unwrap_or_else(|| norm(&plan.start.join(" ")))
        }
    }
}

/// Executables in `node_modules/.bin` and the package that installs each.
const BINS: &[(&str, &str)] = &[
    ("next", "next"),
    ("nuxt", "nuxt"),
    ("remix-serve", "@remix-run/serve"),
    ("react-router-serve", "@react-router/serve"),
    ("vite", "vite"),
];

const BUILD_DIRS: &[&str] = &["dist", "build", "out", "lib", ".output", ".next"];

/// Files a start command names that are neither in the folder, nor written by its
/// build, nor installed by a dependency. Checked here independently of the detector.
fn missing_files(dir: &Path, plan: &BuildPlan, pkg: &Value) -> Vec<String> {
    let exists = |p: &str| dir.join(p).is_file();
    match plan.language {
        _ if plan.start.is_empty() => return Vec::new(),
        Language::Go => {
            let e = plan.entry.as_deref().unwrap_or(".");
            let ok = match e {
                "main.go" => exists("main.go"),
                _ => std::fs::read_dir(dir.join(e.trim_start_matches("./")))
                    .into_iter()
                    .flatten()
                    .filter_map(Result::ok)
                    .any(|f| f.file_name().to_string_lossy().ends_with(".go")),
            };
            return if ok { Vec::new() } else { vec![e.to_string()] };
        }
        Language::Rust => {
            let bin = plan.entry.as_deref().unwrap_or_default();
            let mut roots = vec![String::new()];
            roots.extend(plan.members.iter().map(|m| format!("{m}/")));
            let ok = roots.iter().any(|r| {
                exists(&format!("{r}src/bin/{bin}.rs"))
                    || (exists(&format!("{r}src/main.rs"))
                        && std::fs::read_to_string(dir.join(format!("{r}Cargo.toml")))
                            .is_ok_and(|t| t.contains(&format!("name = \"{bin}\""))))
            });
            return if ok {
                Vec::new()
            } else {
                vec![bin.to_string()]
            };
        }
        Language::Java => {
            let ok = ["pom.xml", "build.gradle", "build.gradle.kts"]
                .iter()
                .any(|b| exists(b))
                && dir.join("src/main/java").is_dir();
            return if ok {
                Vec::new()
            } else {
                vec!["src/main/java".into()]
            };
        }
        Language::Node | Language::Python => {}
    }
    let words: Vec<&str> = plan.start.iter().map(String::as_str).collect();
    let text = match words.as_slice() {
        ["sh", "-c", cmd] => (*cmd).to_string(),
        w => expand_script(w, pkg).unwrap_or_else(|| plan.start.join(" ")),
    };
    let out_dir = std::fs::read_to_string(dir.join("tsconfig.json"))
        .ok()
        .and_then(|t| {
            let at = t.find("\"outDir\"")?;
            let v = t[at + 8..].split('"').nth(1)?;
            Some(v.trim_start_matches("./").trim_end_matches('/').to_string())
        });
    let dep = |name: &str| {
        ["dependencies", "devDependencies"]
            .iter()
            .any(|k| pkg[k].get(name).is_some())
    };
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let mut missing = Vec::new();
    for (i, raw) in tokens.iter().enumerate() {
        let w = raw.trim_matches(['"', '\'']).trim_start_matches("./");
        if let Some(bin) = w.strip_prefix("node_modules/.bin/") {
            if !BINS.iter().any(|(b, d)| *b == bin && dep(d)) {
                missing.push(w.to_string());
            }
            continue;
        }
        // `python3 -m pkg`, `module:app` for a server.
        if i > 0 && tokens[i - 1] == "-m" {
            let m = w.replace('.', "/");
            let src = format!("src/{m}/__main__.py");
            if !(exists(&format!("{m}/__main__.py")) || exists(&format!("{m}.py")) || exists(&src))
            {
                missing.push(w.to_string());
            }
            continue;
        }
        if let Some((module, _)) = w.split_once(':').filter(|(m, a)| {
            m.starts_with(|c: char| c.is_ascii_alphabetic())
                && !a.is_empty()
                && m.chars()
                    .all(|c| c.is_alphanumeric() || c == '.' || c == '_')
        }) {
            if plan.language == Language::Python {
                let m = module.replace('.', "/");
                if !(exists(&format!("{m}.py")) || exists(&format!("{m}/__init__.py"))) {
                    missing.push(w.to_string());
                }
            }
            continue;
        }
        let file_like = [".js", ".mjs", ".cjs", ".ts", ".py", ".sh"]
            .iter()
            .any(|e| w.ends_with(e));
        if !file_like || w.contains(['$', '*', '=']) {
            continue;
        }
        let first = w.split('/').next().unwrap_or_default();
        let built = plan.build
            && (BUILD_DIRS.contains(&first)
                || out_dir
                    .as_deref()
                    .is_some_and(|d| w.starts_with(&format!("{d}/"))));
        if !exists(w) && !built {
            missing.push(w.to_string());
        }
    }
    missing
}

/// Whether the folder holds anything but nixpacks's own configuration.
fn has_source(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            !["nixpacks.toml", "test.env", ".gitignore", "README.md"].contains(&n.as_str())
        })
}

fn md(s: &str) -> String {
    s.replace('|', "\\|")
}

fn cell_cmd(s: &str) -> String {
    if s.is_empty() {
        "none".into()
    } else {
        format!("`{}`", md(s))
    }
}

struct Row {
    app: String,
    nixpacks: String,
    slipway: String,
    port: String,
    verdict: &'static str,
    why: String,
}

#[test]
fn detection_agrees_with_nixpacks_on_its_examples() {
    let corpus = corpus();
    let examples = corpus.join("examples");
    if !examples.is_dir() {
        eprintln!(
            "skipped: the nixpacks corpus is not at {} (it lives beside the project checkout)",
            corpus.display()
        );
        return;
    }
    let reasons: BTreeMap<&str, &str> = DIFFERENCES.iter().copied().collect();
    let mut apps: Vec<PathBuf> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    apps.sort();
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let (mut lang_ok, mut fw_total, mut fw_ok) = (0, 0, 0);
    let (mut with_source, mut lang_ok_with_source) = (0, 0);
    let (mut compared, mut agreed, mut detected_compared, mut detected_agreed) = (0, 0, 0, 0);
    for dir in &apps {
        let app = dir.file_name().unwrap().to_string_lossy().into_owned();
        let plan = slipway_import::detect::detect_folder(dir);
        let nix = nixpacks_plan(&corpus, &app);
        let pkg = package_json(dir);
        let want_lang = nix
            .as_ref()
            .and_then(|n| n.providers.first().cloned())
            .unwrap_or_else(|| app.split('-').next().unwrap_or_default().to_string());
        let got_lang = plan.as_ref().map(|p| p.language.as_str().to_string());
        let mut differs = Vec::new();
        let source = has_source(dir);
        with_source += usize::from(source);
        if got_lang.as_deref() == Some(want_lang.as_str()) {
            lang_ok += 1;
            lang_ok_with_source += usize::from(source);
        } else {
            differs.push("language");
        }
        let nix_fw: Vec<&str> = nix
            .as_ref()
            .map(|n| {
                n.providers
                    .iter()
                    .map(String::as_str)
                    .filter(|p| !NOT_FRAMEWORKS.contains(p))
                    .collect()
            })
            .unwrap_or_default();
        let got_fw = plan.as_ref().and_then(|p| p.framework.clone());
        if let Some(fw) = nix_fw.first() {
            fw_total += 1;
            if got_fw.as_deref() == Some(*fw) {
                fw_ok += 1;
            } else {
                differs.push("framework");
            }
        }
        let slip_canon = plan
            .as_ref()
            .map_or_else(|| "(no service)".to_string(), |p| canon_slipway(p, &pkg));
        let mut start_agrees = None;
        if let Some(n) = &nix {
            let agree = canon_nixpacks(n, &pkg) == slip_canon;
            compared += 1;
            agreed += usize::from(agree);
            if !start_overridden(dir) {
                detected_compared += 1;
                detected_agreed += usize::from(agree);
            }
            if !agree {
                differs.push("start");
            }
            start_agrees = Some(agree);
        }
        if let Some(p) = &plan {
            let missing = missing_files(dir, p, &pkg);
            if !missing.is_empty() {
                problems.push(format!(
                    "{app}: start command `{}` names {missing:?}, which do not exist",
                    p.start.join(" ")
                ));
            }
        }
        let verdict = match (differs.is_empty(), start_agrees) {
            (false, _) => "differ",
            (true, Some(true)) => "agree",
            (true, _) => "language agrees; no plan to compare",
        };
        let why = if differs.is_empty() {
            match &nix {
                None => "nixpacks recorded no plan for its Rust examples".to_string(),
                Some(_) => agree_why(&slip_canon),
            }
        } else if let Some(r) = reasons.get(app.as_str()) {
            format!("{}: {r}", differs.join(", "))
        } else {
            problems.push(format!(
                "{app}: differs ({}) with no reason in DIFFERENCES: nixpacks `{}`, slipway `{slip_canon}`",
                differs.join(", "),
                nix.as_ref().map(|n| canon_nixpacks(n, &pkg)).unwrap_or_default()
            ));
            String::new()
        };
        if differs.is_empty() && reasons.contains_key(app.as_str()) {
            problems.push(format!(
                "{app}: agrees now; remove its entry from DIFFERENCES"
            ));
        }
        rows.push(Row {
            nixpacks: nix.as_ref().map_or_else(
                || "no plan recorded".to_string(),
                |n| {
                    let fw = nix_fw
                        .first()
                        .map(|f| format!(" / {f}"))
                        .unwrap_or_default();
                    format!(
                        "{want_lang}{fw}: {}{}",
                        cell_cmd(n.start.as_deref().unwrap_or_default()),
                        if start_overridden(dir) {
                            " (configured, not detected)"
                        } else {
                            ""
                        }
                    )
                },
            ),
            slipway: plan.as_ref().map_or_else(
                || "no service".to_string(),
                |p| {
                    let fw = p
                        .framework
                        .as_deref()
                        .map(|f| format!(" / {f}"))
                        .unwrap_or_default();
                    let guessed = if p.guessed.iter().any(|g| g == "start") {
                        " (guessed)"
                    } else {
                        ""
                    };
                    format!(
                        "{}{fw}: {}{guessed}",
                        p.language.as_str(),
                        cell_cmd(&p.start.join(" "))
                    )
                },
            ),
            port: plan
                .as_ref()
                .and_then(|p| {
                    p.port.map(|port| {
                        let g = if p.guessed.iter().any(|g| g == "port") {
                            " (guessed)"
                        } else {
                            ""
                        };
                        format!("{port}{g}")
                    })
                })
                .unwrap_or_default(),
            app,
            verdict,
            why,
        });
    }
    for app in reasons.keys() {
        if !rows.iter().any(|r| r.app == *app) {
            problems.push(format!(
                "DIFFERENCES names `{app}`, which is not in the corpus"
            ));
        }
    }
    if lang_ok_with_source != with_source {
        problems.push(format!(
            "language agrees on {lang_ok_with_source} of {with_source} apps with source files: every one must"
        ));
    }
    let figures = Figures {
        apps: apps.len(),
        lang_ok,
        with_source,
        lang_ok_with_source,
        fw_total,
        fw_ok,
        compared,
        agreed,
        detected_compared,
        detected_agreed,
    };
    let doc = render(&rows, &figures);
    let path = doc_path();
    if std::env::var_os("SLIPWAY_REFRESH_DETECTION").is_some() {
        std::fs::write(&path, &doc).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != doc {
        problems.push("docs/detection.md is stale: refresh it with `SLIPWAY_REFRESH_DETECTION=1 cargo test -p slipway_import --test nixpacks_corpus` and check the diff".into());
    }
    if detected_agreed < MIN_START_AGREEMENT {
        problems.push(format!(
            "start commands agree on {detected_agreed} of {detected_compared} detected plans, below the {MIN_START_AGREEMENT} measured before"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn agree_why(canon: &str) -> String {
    if canon == "(none)" {
        "neither finds a start command".into()
    } else if canon.starts_with("go binary") {
        "both build and run the same Go package".into()
    } else if canon.starts_with("the jar") {
        "both run the jar the build writes".into()
    } else {
        "both run the same command".into()
    }
}

struct Figures {
    apps: usize,
    lang_ok: usize,
    with_source: usize,
    lang_ok_with_source: usize,
    fw_total: usize,
    fw_ok: usize,
    compared: usize,
    agreed: usize,
    detected_compared: usize,
    detected_agreed: usize,
}

fn pct(a: usize, b: usize) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!(
            "{:.1}%",
            100.0 * f64::from(u32::try_from(a).unwrap()) / f64::from(u32::try_from(b).unwrap())
        )
    }
}

fn render(rows: &[Row], f: &Figures) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Detection compared with nixpacks\n");
    let _ = writeln!(
        s,
        "Each app of `../shared/corpus/nixpacks/examples` (nixpacks's own examples, commit f51d7fd) through \
`slipway detect`, next to the plan nixpacks recorded for it in `snapshots/`. Start commands are compared \
after both are reduced to what runs: `npm run start` is the script it runs, `python` is `python3`, \
nixpacks's `./out` is the Go package it built, a `java -jar` is the jar of the build tool. \
A start command marked (guessed) was chosen by a file name alone; a port marked (guessed) was found \
neither in the code nor in a framework's convention. Generated by \
`SLIPWAY_REFRESH_DETECTION=1 cargo test -p slipway_import --test nixpacks_corpus`, which also fails when \
a start command names a file that is not in the folder, not written by the build and not installed by a \
dependency, or when a difference has no reason.\n"
    );
    let _ = writeln!(s, "| figure | value |\n|---|---|");
    let _ = writeln!(s, "| apps | {} |", f.apps);
    let _ = writeln!(
        s,
        "| language agrees | {} of {} ({}) |",
        f.lang_ok,
        f.apps,
        pct(f.lang_ok, f.apps)
    );
    let _ = writeln!(
        s,
        "| language agrees, apps with a source file (not only `nixpacks.toml`) | {} of {} ({}) |",
        f.lang_ok_with_source,
        f.with_source,
        pct(f.lang_ok_with_source, f.with_source)
    );
    let _ = writeln!(
        s,
        "| framework agrees, where nixpacks records one | {} of {} ({}) |",
        f.fw_ok,
        f.fw_total,
        pct(f.fw_ok, f.fw_total)
    );
    let _ = writeln!(
        s,
        "| start command agrees, every recorded plan | {} of {} ({}) |",
        f.agreed,
        f.compared,
        pct(f.agreed, f.compared)
    );
    let _ = writeln!(
        s,
        "| start command agrees, plans nixpacks detected (not set in `nixpacks.toml` or `test.env`) | {} of {} ({}) |",
        f.detected_agreed,
        f.detected_compared,
        pct(f.detected_agreed, f.detected_compared)
    );
    let _ = writeln!(
        s,
        "| start commands naming a file that does not exist | 0 |"
    );
    let _ = writeln!(s, "| differences without a written reason | 0 |\n");
    let _ = writeln!(s, "| app | nixpacks | slipway | slipway port | agree/differ | why |\n|---|---|---|---|---|---|");
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            r.app,
            r.nixpacks,
            r.slipway,
            r.port,
            r.verdict,
            md(&r.why)
        );
    }
    s
}
