//! How a Node app starts, in the order a user would look: a `Procfile`, the Nx
//! project's build output, the `start` script, the framework's own server (Next, Nuxt,
//! Remix, React Router, SvelteKit, Nest, Vite preview), `main`, `bin`, then an entry
//! file by name. Every file a start command names exists in the folder, is written by
//! the `build` script, or is a tool a dependency installs; otherwise there is no start
//! command and a note says what was looked for.

use super::{file_args, procfile_web, Folder};
use serde_json::Value;

/// What detection knows about a Node folder while it works out the start command.
pub(super) struct NodeApp<'a> {
    pub f: &'a Folder,
    pub pkg: &'a Value,
    pub pm: &'static str,
    pub framework: Option<&'static str>,
}

/// A start command and what came with it.
#[derive(Default)]
pub(super) struct Start {
    pub argv: Vec<String>,
    /// A port the command itself sets (`--port 4173`, `-p 4000`).
    pub port: Option<u16>,
    /// The framework's default port, when the source does not name one.
    pub default_port: Option<u16>,
    /// The source file to read for a port and a health route.
    pub source: Option<String>,
    /// Chosen by a file name alone, with nothing in package.json naming it.
    pub guessed: bool,
    /// The app started is one project of a workspace: the root's dependencies do not
    /// say which framework it uses.
    pub unknown_framework: bool,
}

/// Folders a build step writes to, by convention.
const BUILD_DIRS: &[&str] = &["dist", "build", "out", "lib", ".output", ".next"];

/// Executables in `node_modules/.bin` and the package that installs each.
const BINS: &[(&str, &str)] = &[
    ("next", "next"),
    ("nuxt", "nuxt"),
    ("remix-serve", "@remix-run/serve"),
    ("react-router-serve", "@react-router/serve"),
    ("vite", "vite"),
];

/// Entry files tried when package.json names none, in nixpacks's order first.
const ENTRY_FILES: &[&str] = &[
    "index.js",
    "server.js",
    "app.js",
    "main.js",
    "index.mjs",
    "server.mjs",
    "src/index.js",
    "src/server.js",
    "src/app.js",
    "src/main.js",
];

impl NodeApp<'_> {
    pub fn script(&self, name: &str) -> Option<&str> {
        self.pkg.get("scripts")?.get(name)?.as_str()
    }

    pub fn dep(&self, name: &str) -> bool {
        ["dependencies", "devDependencies"]
            .iter()
            .any(|k| self.pkg.get(k).and_then(|d| d.get(name)).is_some())
    }

    pub fn build(&self) -> bool {
        self.script("build").is_some()
    }

    /// The TypeScript compiler's output folder, from `tsconfig.json` (read as text: it
    /// may carry comments).
    fn ts_out_dir(&self) -> Option<String> {
        let text = self.f.read("tsconfig.json")?;
        let at = text.find("\"outDir\"")?;
        let rest = text[at + 8..].trim_start().strip_prefix(':')?.trim_start();
        let value = rest.strip_prefix('"')?;
        let dir = value[..value.find('"')?]
            .trim_start_matches("./")
            .trim_end_matches('/');
        (!dir.is_empty()).then(|| dir.to_string())
    }

    /// Whether `path` is written by the build step.
    fn built(&self, path: &str) -> bool {
        if !self.build() {
            return false;
        }
        let first = path.split('/').next().unwrap_or_default();
        BUILD_DIRS.contains(&first)
            || self
                .ts_out_dir()
                .is_some_and(|d| path.starts_with(&format!("{d}/")))
    }

    /// Whether a start command may name `path`: it exists, the build writes it, or
    /// it is a tool a dependency installs.
    fn available(&self, path: &str) -> bool {
        let path = path.trim_start_matches("./");
        // Node runs JavaScript; TypeScript needs a build (or bun) first.
        let typescript = [".ts", ".tsx", ".mts", ".cts"]
            .iter()
            .any(|e| path.ends_with(e));
        if typescript && self.pm != "bun" {
            return false;
        }
        if let Some(bin) = path.strip_prefix("node_modules/.bin/") {
            return BINS.iter().any(|(b, dep)| *b == bin && self.dep(dep));
        }
        self.f.is_file(path) || self.built(path)
    }

    /// The source a built file comes from (`dist/index.js` -> `src/index.ts`), or the
    /// file itself.
    fn source_of(&self, path: &str) -> Option<String> {
        let path = path.trim_start_matches("./");
        if self.f.is_file(path) {
            return Some(path.to_string());
        }
        let rest = path.split_once('/').map_or(path, |(_, r)| r);
        let stem = rest
            .trim_end_matches(".js")
            .trim_end_matches(".mjs")
            .trim_end_matches(".cjs");
        [
            format!("{stem}.ts"),
            format!("src/{stem}.ts"),
            format!("{stem}.js"),
            format!("src/{stem}.js"),
        ]
        .into_iter()
        .find(|c| self.f.is_file(c))
    }

    fn workspace_root(&self) -> bool {
        self.pkg.get("workspaces").is_some() || self.f.is_file("pnpm-workspace.yaml")
    }
}

/// Whether a workspace package is an app rather than a library: it has a `start`
/// script, a Procfile, or a framework that serves it.
pub(super) fn is_app(f: &Folder) -> bool {
    let Some(pkg) = f
        .read("package.json")
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    else {
        return true;
    };
    let dep = |n: &str| {
        ["dependencies", "devDependencies"]
            .iter()
            .any(|k| pkg.get(k).and_then(|d| d.get(n)).is_some())
    };
    pkg["scripts"]["start"].is_string()
        || f.is_file("Procfile")
        || [
            "next",
            "nuxt",
            "@remix-run/serve",
            "@react-router/serve",
            "@nestjs/core",
        ]
        .iter()
        .any(|d| dep(d))
}

/// Workspace package folders (`packages/*` expanded), for a workspace root.
pub(super) fn workspace_members(app: &NodeApp<'_>) -> Vec<String> {
    if !app.workspace_root() {
        return Vec::new();
    }
    let globs: Vec<String> = match app.pkg.get("workspaces") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        Some(Value::Object(o)) => o
            .get("packages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => app
            .f
            .read("pnpm-workspace.yaml")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- "))
            .map(|g| g.trim().trim_matches(['"', '\'']).to_string())
            .collect(),
    };
    let mut out = Vec::new();
    for g in globs {
        if let Some(parent) = g.strip_suffix("/*") {
            out.extend(
                app.f
                    .list(parent, true)
                    .into_iter()
                    .map(|d| format!("{parent}/{d}"))
                    .filter(|d| app.f.is_file(&format!("{d}/package.json"))),
            );
        } else if app.f.is_file(&format!("{g}/package.json")) {
            out.push(g);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(ToString::to_string).collect()
}

/// A port set on a command line: `--port 4000`, `-p 4000`, `--port=4000`, `PORT=4000`.
fn port_flag(cmd: &str) -> Option<u16> {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    words.iter().enumerate().find_map(|(i, w)| {
        if let Some(v) = w
            .strip_prefix("--port=")
            .or_else(|| w.strip_prefix("PORT="))
        {
            return v.parse().ok();
        }
        matches!(*w, "--port" | "-p")
            .then(|| words.get(i + 1)?.parse().ok())
            .flatten()
    })
}

/// The start command for a Node folder; `argv` is empty when none was found, and
/// `notes` then says why.
pub(super) fn start(app: &NodeApp<'_>, notes: &mut Vec<String>) -> Start {
    if let Some((cmd, argv)) = procfile_web(app.f) {
        if let Some(missing) = file_args(&cmd).into_iter().find(|p| !app.available(p)) {
            notes.push(format!("Procfile `web: {cmd}` names `{missing}`, which is not in the folder and no build step writes it"));
        } else {
            notes.push(format!("start command from Procfile `web: {cmd}`"));
            return Start {
                port: port_flag(&cmd),
                source: file_args(&cmd).first().and_then(|p| app.source_of(p)),
                argv,
                ..Start::default()
            };
        }
    }
    if let Some(s) = nx(app, notes) {
        return s;
    }
    if let Some(script) = app.script("start") {
        return from_script(app, script, notes);
    }
    if app.workspace_root() {
        let members = workspace_members(app);
        notes.push(format!(
            "no start command: a workspace root with no `start` script; each package is detected as its own service ({})",
            if members.is_empty() { "none found".to_string() } else { members.join(", ") }
        ));
        return Start::default();
    }
    if let Some(s) = framework_server(app, notes) {
        return s;
    }
    from_files(app, notes)
}

/// `scripts.start`: run directly when it is one plain command (so the process is PID
/// 1 and gets signals), else through the package manager.
fn from_script(app: &NodeApp<'_>, script: &str, notes: &mut Vec<String>) -> Start {
    if let Some(missing) = file_args(script).into_iter().find(|p| !app.available(p)) {
        notes.push(format!(
            "no start command: scripts.start (`{script}`) names `{missing}`, which is not in the folder and no build step writes it"
        ));
        return Start::default();
    }
    let source = file_args(script).iter().find_map(|p| app.source_of(p));
    let port = port_flag(script);
    let words: Vec<&str> = script.split_whitespace().collect();
    let plain = !script.contains(['&', '|', ';', '$', '>', '<', '=', '`']);
    let direct = match words.first() {
        Some(&"node") if plain && words.len() >= 2 => Some(argv(&words)),
        Some(tool) if plain && app.available(&format!("node_modules/.bin/{tool}")) => {
            Some([vec![format!("node_modules/.bin/{tool}")], argv(&words[1..])].concat())
        }
        _ => None,
    };
    let default_port = match app.framework {
        Some("next" | "nuxt" | "remix" | "react-router" | "sveltekit" | "nest") => Some(3000),
        _ => None,
    };
    Start {
        argv: direct.unwrap_or_else(|| argv(&[app.pm, "run", "start"])),
        port,
        default_port,
        source,
        ..Start::default()
    }
}

/// An Nx workspace: the default project's build output (`node <outputPath>/main.js`).
fn nx(app: &NodeApp<'_>, notes: &mut Vec<String>) -> Option<Start> {
    let nx: Value = serde_json::from_str(&app.f.read("nx.json")?).ok()?;
    if app
        .script("start")
        .is_some_and(|s| !s.trim_start().starts_with("nx "))
    {
        return None;
    }
    let project = nx.get("defaultProject")?.as_str()?;
    let dir = app
        .f
        .read("workspace.json")
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|w| w["projects"][project].as_str().map(String::from))
        .unwrap_or_else(|| format!("apps/{project}"));
    let pj: Value = serde_json::from_str(&app.f.read(&format!("{dir}/project.json"))?).ok()?;
    let options = &pj["targets"]["build"]["options"];
    let out = options["outputPath"].as_str()?;
    let main = options["main"].as_str()?;
    let stem = main.rsplit('/').next()?.split('.').next()?;
    let file = format!("{}/{stem}.js", out.trim_end_matches('/'));
    notes.push(format!(
        "Nx workspace: runs the default project `{project}` as built by `nx build` ({file}, from {main})"
    ));
    Some(Start {
        argv: argv(&["node", &file]),
        source: app.f.is_file(main).then(|| main.to_string()),
        unknown_framework: true,
        ..Start::default()
    })
}

/// The framework's own production server, when package.json has no `start` script.
fn framework_server(app: &NodeApp<'_>, notes: &mut Vec<String>) -> Option<Start> {
    let fw = app.framework?;
    let s = |parts: &[&str], port: u16| Start {
        argv: argv(parts),
        default_port: Some(port),
        ..Start::default()
    };
    let needs_build = |what: &str, notes: &mut Vec<String>| {
        notes.push(format!(
            "no start command: {what} serves the output of a build, and package.json has no `build` script"
        ));
        None
    };
    match fw {
        "next" if app.build() => Some(s(&["node_modules/.bin/next", "start"], 3000)),
        "nuxt" if app.build() => Some(s(&["node", ".output/server/index.mjs"], 3000)),
        "remix" if app.build() && app.dep("@remix-run/serve") => {
            let file = if app.f.is_file("vite.config.ts") || app.f.is_file("vite.config.js") {
                "build/server/index.js"
            } else {
                "build/index.js"
            };
            Some(s(&["node_modules/.bin/remix-serve", file], 3000))
        }
        "react-router" if app.build() => Some(s(
            &[
                "node_modules/.bin/react-router-serve",
                "build/server/index.js",
            ],
            3000,
        )),
        "sveltekit" if app.build() && app.dep("@sveltejs/adapter-node") => {
            Some(s(&["node", "build/index.js"], 3000))
        }
        "sveltekit" if app.build() => {
            notes.push("no start command: SvelteKit builds a Node server only with @sveltejs/adapter-node; add it, or serve the static build elsewhere".into());
            None
        }
        "nest" if app.build() && app.f.is_file("src/main.ts") => Some(Start {
            argv: argv(&["node", "dist/main.js"]),
            default_port: Some(3000),
            source: Some("src/main.ts".into()),
            ..Start::default()
        }),
        "vite" if app.build() => Some(vite_preview(app, notes)),
        "next" | "nuxt" | "remix" | "react-router" | "sveltekit" | "nest" | "vite" => {
            needs_build(fw, notes)
        }
        _ => None,
    }
}

/// A single-page app built by Vite: `vite preview` serves the built folder (port 4173).
/// It is a dev dependency, so the image keeps dev dependencies.
fn vite_preview(app: &NodeApp<'_>, notes: &mut Vec<String>) -> Start {
    let mut parts = argv(&[
        "node_modules/.bin/vite",
        "preview",
        "--host",
        "0.0.0.0",
        "--port",
        "4173",
        "--strictPort",
    ]);
    // `vite build --outDir out` must be previewed from the same folder.
    if let Some(dir) = app.script("build").and_then(|b| {
        let w: Vec<&str> = b.split_whitespace().collect();
        w.iter()
            .position(|x| *x == "--outDir")
            .and_then(|i| w.get(i + 1).map(|d| (*d).to_string()))
    }) {
        parts.extend(["--outDir".to_string(), dir]);
    }
    notes.push("single-page app: `vite preview` serves the build on port 4173 (vite is a dev dependency, so the image keeps dev dependencies)".into());
    Start {
        argv: parts,
        port: Some(4173),
        ..Start::default()
    }
}

/// `main`, `bin`, then an entry file by name (bun runs `index.ts` itself).
fn from_files(app: &NodeApp<'_>, notes: &mut Vec<String>) -> Start {
    let main = app
        .pkg
        .get("main")
        .and_then(Value::as_str)
        .map(|m| m.trim_start_matches("./").to_string());
    if let Some(m) = main.as_deref().filter(|m| app.available(m)) {
        return Start {
            argv: argv(&["node", m]),
            source: app.source_of(m),
            ..Start::default()
        };
    }
    let bin = match app.pkg.get("bin") {
        Some(Value::String(b)) => Some(b.clone()),
        Some(Value::Object(o)) if o.len() == 1 => {
            o.values().next().and_then(Value::as_str).map(String::from)
        }
        _ => None,
    };
    if let Some(b) = bin
        .as_deref()
        .map(|b| b.trim_start_matches("./"))
        .filter(|b| app.available(b))
    {
        return Start {
            argv: argv(&["node", b]),
            source: app.source_of(b),
            ..Start::default()
        };
    }
    if let Some(file) = app.f.first(ENTRY_FILES) {
        notes.push(format!(
            "no `start` script and no `main`: runs {file}, found by its name"
        ));
        return Start {
            argv: argv(&["node", file]),
            source: Some(file.to_string()),
            guessed: true,
            ..Start::default()
        };
    }
    if app.pm == "bun" && app.f.is_file("index.ts") {
        return Start {
            argv: argv(&["bun", "index.ts"]),
            source: Some("index.ts".into()),
            guessed: true,
            ..Start::default()
        };
    }
    let mut why = vec!["package.json has no `start` script".to_string()];
    if let Some(m) = &main {
        why.push(format!("`main` names {m}, which does not exist"));
    }
    if app.f.is_file("index.ts") || app.f.is_file("src/index.ts") {
        why.push("index.ts is there but no `build` script compiles it".into());
    }
    why.push(format!("none of {} exists", ENTRY_FILES.join(", ")));
    notes.push(format!(
        "no start command: {}; set `command:` for this service",
        why.join("; ")
    ));
    Start::default()
}
