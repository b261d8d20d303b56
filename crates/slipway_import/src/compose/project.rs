//! A compose project as Compose loads it: the top-level files (merged in order),
//! `.env` of the project folder, `include:` (each included file read with paths and
//! `.env` relative to its own project folder; a service defined twice is a conflict),
//! and `extends:` (same file or another, resolved recursively, cycles refused).
//! Every file read is kept so diagnostics in it show their source line.
//!
//! Reads files only through [`FileAccess`], so tests and fuzzing run in memory.

use super::service::{self, ComposeService};
use super::{dotenv, network, ComposeOptions, Ctx};
use crate::spec::did_you_mean;
use crate::yaml::{self, Budget, Node};
use slipway_diagnostics::{Diagnostic, Diagnostics, Severity, SourceFile, Span};
use slipway_model::Network;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Where the importer reads the files a compose file names.
#[derive(Debug, Clone, Default)]
pub enum FileAccess {
    /// The filesystem (files over 4 MiB are refused).
    #[default]
    Disk,
    /// Files by path, for tests and fuzzing: nothing is read from disk.
    Memory(BTreeMap<String, String>),
}

const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Files one project may read (included, extended, env files): a bound for hostile input.
const MAX_FILES: usize = 64;
/// `include` / `extends` chains deeper than this are refused.
const MAX_DEPTH: usize = 32;

impl FileAccess {
    pub(crate) fn read(&self, path: &Path) -> std::io::Result<String> {
        match self {
            FileAccess::Disk => {
                let meta = std::fs::metadata(path)?;
                if meta.len() > MAX_FILE_BYTES {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("larger than {MAX_FILE_BYTES} bytes"),
                    ));
                }
                std::fs::read_to_string(path)
            }
            FileAccess::Memory(files) => files
                .get(&*normalize(path).to_string_lossy())
                .cloned()
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound)),
        }
    }
}

impl FileAccess {
    /// Several files in one text, for fuzzing and its replay: the main compose file,
    /// then each further file after a line `#== <path>`. Returns the main file's text
    /// and the others in memory.
    #[doc(hidden)]
    #[must_use]
    pub fn bundle(text: &str) -> (String, FileAccess) {
        let mut parts = text.split("\n#== ");
        let main = parts.next().unwrap_or("").to_string();
        let files = parts
            .filter_map(|p| {
                let (name, body) = p.split_once('\n').unwrap_or((p, ""));
                (!name.trim().is_empty()).then(|| (name.trim().to_string(), body.to_string()))
            })
            .collect();
        (main, FileAccess::Memory(files))
    }
}

/// `a/./b/../c` -> `a/c`, without touching the filesystem (so names stay as the user
/// wrote them, and tests in memory behave as on disk).
pub(crate) fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.iter().collect()
}

/// The path from folder `from` to folder `to`, as a prefix (`""`, `sub/`, `../x/`).
fn relative_prefix(from: &Path, to: &Path) -> String {
    let (f, t): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".into(); f.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.iter().fold(String::new(), |mut out, p| {
        out.push_str(p);
        out.push('/');
        out
    })
}

fn parent(name: &str) -> PathBuf {
    Path::new(name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// One file of the project.
pub(crate) struct FileEntry {
    pub source: Arc<SourceFile>,
    pub root: Node,
    /// The folder its relative paths are read from (its project folder).
    pub dir: PathBuf,
    /// Prefix from the main folder to `dir`.
    pub rebase: String,
    pub vars: Arc<BTreeMap<String, String>>,
}

/// Which definition a service came from: `scope` is the top-level file that brought it
/// in; `include` the include entry (several paths of one entry merge, two entries
/// conflict).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Origin {
    scope: usize,
    include: Option<usize>,
}

struct Def {
    file: usize,
    origin: Origin,
}

/// What loading produced, for the conversion into the model.
pub(crate) struct Loaded {
    pub name: Option<String>,
    pub order: Vec<String>,
    pub services: BTreeMap<String, ComposeService>,
    pub networks: BTreeMap<String, Network>,
    pub sources: Vec<Arc<SourceFile>>,
    /// Variables kept as `${NAME}` references.
    pub deploy_vars: Vec<String>,
    /// Secret values of `.env` files: (variable, value, where).
    pub env_secrets: Vec<(String, String, String)>,
}

pub(crate) struct Project<'o> {
    opts: &'o ComposeOptions,
    files: Vec<FileEntry>,
    by_path: BTreeMap<String, usize>,
    main_dir: PathBuf,
    main_vars: Arc<BTreeMap<String, String>>,
    name: Option<String>,
    order: Vec<String>,
    defs: BTreeMap<String, Vec<Def>>,
    networks: BTreeMap<String, Network>,
    declared_volumes: Vec<String>,
    sources: Vec<Arc<SourceFile>>,
    deploy_vars: BTreeSet<String>,
    cache: BTreeMap<(usize, String), ComposeService>,
    missing: BTreeMap<(usize, String), Vec<(Span, bool)>>,
    env_secrets: Vec<(String, String, String)>,
    includes: usize,
    cycles_reported: BTreeSet<Vec<(usize, String)>>,
}

impl<'o> Project<'o> {
    /// Starts a project whose main file is `main`; reads its folder's `.env`.
    pub fn new(opts: &'o ComposeOptions, main: Option<&str>, diags: &mut Diagnostics) -> Self {
        let main_dir = normalize(&main.map(parent).unwrap_or_default());
        let mut p = Project {
            opts,
            files: Vec::new(),
            by_path: BTreeMap::new(),
            main_vars: Arc::new(opts.vars.clone()),
            main_dir: main_dir.clone(),
            name: None,
            order: Vec::new(),
            defs: BTreeMap::new(),
            networks: BTreeMap::new(),
            declared_volumes: Vec::new(),
            sources: Vec::new(),
            deploy_vars: BTreeSet::new(),
            cache: BTreeMap::new(),
            missing: BTreeMap::new(),
            env_secrets: Vec::new(),
            includes: 0,
            cycles_reported: BTreeSet::new(),
        };
        if main.is_some() {
            let vars = p.env_files(&[main_dir.join(".env")], false, &opts.vars, diags);
            p.main_vars = Arc::new(vars);
        }
        p
    }

    /// Reads env files (`.env`, an include's `env_file`) over `outer`, which wins.
    fn env_files(
        &mut self,
        paths: &[PathBuf],
        required: bool,
        outer: &BTreeMap<String, String>,
        diags: &mut Diagnostics,
    ) -> BTreeMap<String, String> {
        let mut vars = outer.clone();
        for path in paths {
            let name = normalize(path).to_string_lossy().into_owned();
            let text = match self.opts.access.read(path) {
                Ok(t) => t,
                Err(e) if required => {
                    diags.push(
                        Diagnostic::error(
                            "SPEC120",
                            format!("env file `{name}` cannot be read: {e}"),
                        )
                        .in_file(&name),
                    );
                    continue;
                }
                Err(_) => continue,
            };
            let file = Arc::new(SourceFile::new(name.clone(), text));
            self.sources.push(file.clone());
            let parsed = dotenv::parse_dotenv(&file.text, &|k| outer.get(k).cloned());
            self.report_dotenv(&file, &parsed, diags);
            for (k, v) in parsed.vars() {
                vars.entry(k).or_insert(v);
            }
        }
        vars
    }

    fn report_dotenv(
        &mut self,
        file: &SourceFile,
        parsed: &dotenv::DotEnv,
        diags: &mut Diagnostics,
    ) {
        for (span, msg) in &parsed.errors {
            diags.push(
                Diagnostic::error("SPEC120", format!("invalid `.env` line: {msg}"))
                    .at(&file.name, *span)
                    .expected("`KEY=value`, `KEY=\"value\"` or `KEY='value'`, one per line")
                    .help("Compose refuses this file too; quote the value or escape a literal `$` as `$$`"),
            );
        }
        for (key, span) in &parsed.unset {
            diags.push(
                Diagnostic::new("SPEC120", Severity::Info, format!("`{key}` has no value here; Compose would take it from the shell, which slipway reads only with `--env-from-shell`"))
                    .at(&file.name, *span),
            );
        }
        for e in &parsed.entries {
            for m in &e.missing {
                self.deploy_vars.insert(m.clone());
                diags.push(
                    Diagnostic::warning("SPEC105", format!("variable `{m}` is not set when `{}` is read: it is kept as `${{{m}}}` for the deploy to fill in", e.key))
                        .at(&file.name, e.value_span)
                        .help("define it earlier in the file, give a default with `${VAR:-default}`, or pass `--env-from-shell`"),
                );
            }
            if crate::secrets::secret_kind(Some(&e.key), &e.value).is_some() {
                let (line, col) = file.line_col(e.key_span.start);
                self.env_secrets.push((
                    e.key.clone(),
                    e.value.clone(),
                    format!("{}:{line}:{col}", file.name),
                ));
            }
        }
    }

    fn register(
        &mut self,
        source: Arc<SourceFile>,
        root: Node,
        dir: PathBuf,
        vars: Arc<BTreeMap<String, String>>,
    ) -> usize {
        let rebase = relative_prefix(&self.main_dir, &normalize(&dir));
        self.by_path.insert(source.name.clone(), self.files.len());
        self.files.push(FileEntry {
            source,
            root,
            dir,
            rebase,
            vars,
        });
        self.files.len() - 1
    }

    /// A top-level file (`-f`): its includes, then its own keys.
    pub fn add_top_file(&mut self, source: &Arc<SourceFile>, root: Node, diags: &mut Diagnostics) {
        let dir = parent(&source.name);
        let vars = self.main_vars.clone();
        let idx = self.register(source.clone(), root, dir, vars);
        let mut stack = vec![normalize(Path::new(&source.name))
            .to_string_lossy()
            .into_owned()];
        let origin = Origin {
            scope: idx,
            include: None,
        };
        self.read_file(idx, origin, &mut stack, diags);
    }

    /// The keys of file `idx`: includes first (as Compose loads them), then the rest.
    fn read_file(
        &mut self,
        idx: usize,
        origin: Origin,
        stack: &mut Vec<String>,
        diags: &mut Diagnostics,
    ) {
        // Taken out while its keys are read (they need `&mut self`), put back after.
        let root = std::mem::replace(&mut self.files[idx].root, empty_node());
        if let Some(inc) = root.get("include") {
            self.includes(idx, inc, origin.scope, stack, diags);
        }
        let top = origin.include.is_none();
        for (k, v) in root.as_map().unwrap_or(&[]) {
            let key = k.as_scalar().unwrap_or("");
            match key {
                "name" if top => {
                    let n = self.ctx_text(idx, v, diags);
                    if n.is_some() {
                        self.name = n;
                    }
                }
                "services" => {
                    for (sk, _) in v.as_map().unwrap_or(&[]) {
                        if let Some(sname) = sk.as_scalar() {
                            self.define(sname, idx, origin, sk, diags);
                        }
                    }
                }
                "volumes" => self.declared_volumes.extend(
                    v.as_map()
                        .unwrap_or(&[])
                        .iter()
                        .filter_map(|(k, _)| k.as_scalar().map(ToString::to_string)),
                ),
                "networks" => {
                    let mut ctx = self.ctx(idx, diags);
                    let declared = network::declarations(&mut ctx, v);
                    let missing = std::mem::take(&mut ctx.missing);
                    self.flush_missing(idx, missing);
                    for (n, net) in declared {
                        self.networks.entry(n).or_insert(net);
                    }
                }
                "secrets" => self.secret_sources(idx, v, diags),
                "name" | "version" | "configs" | "include" => {}
                other if other.starts_with("x-") => {}
                other => {
                    const TOP_KEYS: &[&str] = &[
                        "version", "name", "services", "volumes", "networks", "secrets", "configs",
                        "include",
                    ];
                    let mut d = Diagnostic::warning(
                        "SPEC101",
                        format!("unknown top-level key `{other}` is ignored"),
                    )
                    .at(&self.files[idx].source.name, k.span);
                    if let Some(s) = did_you_mean(other, TOP_KEYS.iter().copied()) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    diags.push(d);
                }
            }
        }
        self.files[idx].root = root;
    }

    /// Top-level `secrets:`: the output reads each from a git-ignored file of its own
    /// (compose) or the app's Secret (Kubernetes), not from where the input keeps it.
    fn secret_sources(&self, idx: usize, node: &Node, diags: &mut Diagnostics) {
        let file = &self.files[idx].source.name;
        for (k, v) in node.as_map().unwrap_or(&[]) {
            let Some(name) = k.as_scalar() else { continue };
            let from = ["file", "environment", "external", "name"]
                .into_iter()
                .find_map(|key| Some((key, v.get(key)?.as_scalar()?)));
            let place = name
                .to_ascii_uppercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
                .to_ascii_lowercase();
            let what = match from {
                Some(("file", path)) => format!("from file `{path}`"),
                Some(("environment", var)) => format!("from the variable `{var}`"),
                Some((key, value)) => format!("as `{key}: {value}`"),
                None => "as declared".to_string(),
            };
            diags.push(
                Diagnostic::new("SPEC123", Severity::Info, format!("secret `{name}` is not read {what}: compose reads it from `secrets/{place}` beside the compose files (git-ignored), Kubernetes from the app's Secret under `{place}`"))
                    .at(file, k.span)
                    .help(format!("put the value in `compose/secrets/{place}` before deploying")),
            );
        }
    }

    /// Records a service definition; an included service defined again in the same
    /// project scope is a conflict, as in Compose.
    fn define(
        &mut self,
        name: &str,
        file: usize,
        origin: Origin,
        key: &Node,
        diags: &mut Diagnostics,
    ) {
        let defs = self.defs.entry(name.to_string()).or_default();
        let clash = defs.iter().find(|d| {
            d.origin.scope == origin.scope
                && (d.origin.include.is_some() || origin.include.is_some())
                && d.origin.include != origin.include
        });
        if let Some(other) = clash {
            let other_file = &self.files[other.file].source.name;
            let here = &self.files[file].source.name;
            let mut d = Diagnostic::error(
                "SPEC121",
                format!("service `{name}` is defined both in `{other_file}` and in `{here}`; an included service cannot be defined again"),
            )
            .at(here, key.span)
            .help("rename one of them, or drop the `include` that brings the other");
            if let Some(span) = service_key_span(&self.files[other.file].root, name) {
                d = d.label(other_file, span, "first defined here");
            }
            diags.push(d);
            return;
        }
        if defs.is_empty() {
            self.order.push(name.to_string());
        }
        defs.push(Def { file, origin });
    }

    fn includes(
        &mut self,
        idx: usize,
        node: &Node,
        scope: usize,
        stack: &mut Vec<String>,
        diags: &mut Diagnostics,
    ) {
        let items: Vec<Node> = node
            .as_seq()
            .map_or_else(|| vec![node.clone()], <[Node]>::to_vec);
        for item in &items {
            let Some(entry) = self.include_entry(idx, item, diags) else {
                continue;
            };
            self.includes += 1;
            let origin = Origin {
                scope,
                include: Some(self.includes),
            };
            let env_paths: Vec<PathBuf> = if entry.env_files.is_empty() {
                vec![entry.project_dir.join(".env")]
            } else {
                entry.env_files.clone()
            };
            let parent_vars = (*self.files[idx].vars).clone();
            let vars = Arc::new(self.env_files(
                &env_paths,
                !entry.env_files.is_empty(),
                &parent_vars,
                diags,
            ));
            for path in &entry.paths {
                let name = normalize(path).to_string_lossy().into_owned();
                if let Some(at) = stack.iter().position(|s| *s == name) {
                    let chain: Vec<&str> = stack[at..].iter().map(String::as_str).collect();
                    diags.push(
                        Diagnostic::error(
                            "SPEC121",
                            format!("include cycle: {} -> {name}", chain.join(" -> ")),
                        )
                        .at(&self.files[idx].source.name, item.span)
                        .help("remove the `include` that leads back to a file already being read"),
                    );
                    continue;
                }
                if stack.len() > MAX_DEPTH || self.files.len() >= MAX_FILES {
                    diags.push(
                        Diagnostic::error("SPEC121", format!("`include` goes deeper than {MAX_DEPTH} levels or past {MAX_FILES} files; `{name}` is not read"))
                            .at(&self.files[idx].source.name, item.span),
                    );
                    continue;
                }
                let Some((source, root)) =
                    self.load(path, &self.files[idx].source.name.clone(), item, diags)
                else {
                    continue;
                };
                let child = self.register(source, root, entry.project_dir.clone(), vars.clone());
                stack.push(name);
                self.read_file(child, origin, stack, diags);
                stack.pop();
            }
        }
    }

    /// One `include` item: a path, or `{ path, env_file, project_directory }`.
    fn include_entry(
        &mut self,
        idx: usize,
        item: &Node,
        diags: &mut Diagnostics,
    ) -> Option<IncludeEntry> {
        let dir = self.files[idx].dir.clone();
        let list = |p: &mut Self, n: Option<&Node>, diags: &mut Diagnostics| -> Vec<PathBuf> {
            let Some(n) = n else { return Vec::new() };
            let items: Vec<Node> = n.as_seq().map_or_else(|| vec![n.clone()], <[Node]>::to_vec);
            items
                .iter()
                .filter_map(|i| p.ctx_value(idx, i, diags))
                .map(|s| dir.join(s))
                .collect()
        };
        let (paths, env_files, project_dir) = if item.as_map().is_some() {
            let paths = list(self, item.get("path"), diags);
            let env = list(self, item.get("env_file"), diags);
            let pd = item
                .get("project_directory")
                .and_then(|n| self.ctx_value(idx, n, diags))
                .map(|s| dir.join(s));
            (paths, env, pd)
        } else {
            (list(self, Some(item), diags), Vec::new(), None)
        };
        if paths.is_empty() {
            diags.push(
                Diagnostic::error("SPEC121", "an `include` entry names no file")
                    .at(&self.files[idx].source.name, item.span)
                    .expected("`- path/to/compose.yaml` or `- path: path/to/compose.yaml`"),
            );
            return None;
        }
        let project_dir = normalize(
            &project_dir
                .unwrap_or_else(|| paths[0].parent().map(Path::to_path_buf).unwrap_or_default()),
        );
        Some(IncludeEntry {
            paths,
            env_files,
            project_dir,
        })
    }

    /// Reads and parses a file named by `at` in file `from`.
    fn load(
        &mut self,
        path: &Path,
        from: &str,
        at: &Node,
        diags: &mut Diagnostics,
    ) -> Option<(Arc<SourceFile>, Node)> {
        let name = normalize(path).to_string_lossy().into_owned();
        let text = match self.opts.access.read(path) {
            Ok(t) => t,
            Err(e) => {
                diags.push(
                    Diagnostic::error("SPEC121", format!("`{name}` cannot be read: {e}"))
                        .at(from, at.span)
                        .help("paths are relative to the folder of the file that names them"),
                );
                return None;
            }
        };
        let source = Arc::new(SourceFile::new(name, text));
        self.sources.push(source.clone());
        let docs = match yaml::parse(&source, Budget::default()) {
            Ok(d) => d,
            Err(d) => {
                diags.push(d);
                return None;
            }
        };
        let root = docs.into_iter().next().unwrap_or_else(empty_node);
        if root.as_map().is_none() && !root.is_null() {
            diags.push(
                Diagnostic::error(
                    "SPEC100",
                    "a compose file must be a mapping with `services:`",
                )
                .at(&source.name, root.span),
            );
            return None;
        }
        Some((source, root))
    }

    pub(crate) fn ctx<'a>(&'a self, idx: usize, diags: &'a mut Diagnostics) -> Ctx<'a> {
        let f = &self.files[idx];
        Ctx {
            file: &f.source,
            dir: &f.dir,
            rebase: &f.rebase,
            vars: &f.vars,
            access: &self.opts.access,
            diags,
            missing: BTreeMap::new(),
            read: Vec::new(),
        }
    }

    fn ctx_value(&mut self, idx: usize, node: &Node, diags: &mut Diagnostics) -> Option<String> {
        let mut ctx = self.ctx(idx, diags);
        let v = ctx.value(node);
        let missing = std::mem::take(&mut ctx.missing);
        self.flush_missing(idx, missing);
        v
    }

    fn ctx_text(&mut self, idx: usize, node: &Node, diags: &mut Diagnostics) -> Option<String> {
        let mut ctx = self.ctx(idx, diags);
        let v = ctx.text(node);
        let missing = std::mem::take(&mut ctx.missing);
        self.flush_missing(idx, missing);
        v
    }

    /// Collects unset variables; each is reported once per file, at its first use,
    /// with every other use labelled.
    fn flush_missing(&mut self, idx: usize, missing: BTreeMap<String, Vec<(Span, bool)>>) {
        for (var, places) in missing {
            if places.iter().any(|(_, kept)| *kept) {
                self.deploy_vars.insert(var.clone());
            }
            self.missing.entry((idx, var)).or_default().extend(places);
        }
    }

    fn report_missing(&mut self, diags: &mut Diagnostics) {
        for ((idx, var), places) in std::mem::take(&mut self.missing) {
            let file = &self.files[idx].source.name;
            let kept = places.iter().filter(|(_, k)| *k).count();
            let what = if kept == places.len() {
                format!("it is kept as `${{{var}}}` for the deploy to fill in (compose reads it then; Kubernetes output carries the text)")
            } else if kept == 0 {
                "it is replaced by an empty string".to_string()
            } else {
                format!("it is kept as `${{{var}}}` in values carried as text, and empty where slipway reads the value (ports, paths, numbers)")
            };
            let Some(((first, _), rest)) = places.split_first() else {
                continue;
            };
            let mut d = Diagnostic::warning("SPEC105", format!("variable `{var}` is not set: {what}"))
                .at(file, *first)
                .help("set it in `.env` next to the compose file, give a default with `${VAR:-default}`, or pass `--env-from-shell` to use this shell's value");
            for (span, _) in rest {
                d = d.label(file, *span, "also used here");
            }
            diags.push(d);
        }
    }

    /// Service `name` of file `idx` as written, read once.
    fn read_service(
        &mut self,
        idx: usize,
        name: &str,
        diags: &mut Diagnostics,
    ) -> Option<ComposeService> {
        if let Some(s) = self.cache.get(&(idx, name.to_string())) {
            return Some(s.clone());
        }
        let (key, body) = self.files[idx]
            .root
            .get("services")?
            .as_map()?
            .iter()
            .find(|(k, _)| k.as_scalar() == Some(name))
            .map(|(k, b)| (k.clone(), b.clone()))?;
        let declared = std::mem::take(&mut self.declared_volumes);
        let mut ctx = self.ctx(idx, diags);
        let svc = service::read(&mut ctx, &key, name, &body, &declared);
        let missing = std::mem::take(&mut ctx.missing);
        let read = std::mem::take(&mut ctx.read);
        self.sources.extend(read);
        self.declared_volumes = declared;
        self.flush_missing(idx, missing);
        self.cache.insert((idx, name.to_string()), svc.clone());
        Some(svc)
    }

    /// Service `name` of file `idx` with its `extends` chain applied.
    fn resolve(
        &mut self,
        idx: usize,
        name: &str,
        stack: &mut Vec<(usize, String, Span)>,
        diags: &mut Diagnostics,
    ) -> Option<ComposeService> {
        let own = self.read_service(idx, name, diags)?;
        let Some(ext) = self.files[idx]
            .root
            .get("services")
            .and_then(|s| s.get(name))
            .and_then(|b| b.get("extends"))
            .cloned()
        else {
            return Some(own);
        };
        let ext = &ext;
        let from = self.files[idx].source.name.clone();
        let (target_file, target) = self.extends_target(idx, ext, diags)?;
        stack.push((idx, name.to_string(), ext.span));
        let result = if let Some(at) = stack
            .iter()
            .position(|(f, s, _)| *f == target_file && *s == target)
        {
            self.report_cycle(&stack[at..], diags);
            None
        } else if stack.len() > MAX_DEPTH {
            diags.push(
                Diagnostic::error(
                    "SPEC122",
                    format!("`extends` chain deeper than {MAX_DEPTH}"),
                )
                .at(&from, ext.span),
            );
            None
        } else {
            match self.resolve(target_file, &target, stack, diags) {
                Some(mut base) => {
                    base.extend_with(own);
                    Some(base)
                }
                None if self.cache.contains_key(&(target_file, target.clone()))
                    || self.defined(target_file, &target) =>
                {
                    None
                }
                None => {
                    let file = self.files[target_file].source.name.clone();
                    diags.push(
                        Diagnostic::error("SPEC122", format!("service `{name}` extends `{target}`, which `{file}` does not define"))
                            .at(&from, ext.span)
                            .help("name a service of that file under `extends.service`"),
                    );
                    None
                }
            }
        };
        stack.pop();
        result
    }

    fn defined(&self, idx: usize, name: &str) -> bool {
        self.files[idx]
            .root
            .get("services")
            .and_then(|s| s.get(name))
            .is_some()
    }

    /// `extends: name` or `extends: { service, file }` -> (file index, service).
    fn extends_target(
        &mut self,
        idx: usize,
        ext: &Node,
        diags: &mut Diagnostics,
    ) -> Option<(usize, String)> {
        let from = self.files[idx].source.name.clone();
        if ext.as_map().is_none() {
            return self.ctx_value(idx, ext, diags).map(|s| (idx, s));
        }
        let Some(service) = ext
            .get("service")
            .and_then(|s| self.ctx_value(idx, s, diags))
        else {
            diags.push(
                Diagnostic::error("SPEC122", "`extends` names no service")
                    .at(&from, ext.span)
                    .expected("`extends: base` or `extends: { service: base, file: base.yaml }`"),
            );
            return None;
        };
        let Some(file_node) = ext.get("file") else {
            return Some((idx, service));
        };
        let rel = self.ctx_value(idx, file_node, diags)?;
        let path = self.files[idx].dir.join(&rel);
        let name = normalize(&path).to_string_lossy().into_owned();
        if let Some(i) = self.by_path.get(&name) {
            return Some((*i, service));
        }
        if self.files.len() >= MAX_FILES {
            diags.push(
                Diagnostic::error(
                    "SPEC122",
                    format!("more than {MAX_FILES} files; `{name}` is not read"),
                )
                .at(&from, file_node.span),
            );
            return None;
        }
        let (source, root) = self.load(&path, &from, file_node, diags)?;
        self.declared_volumes.extend(
            root.get("volumes")
                .and_then(Node::as_map)
                .unwrap_or(&[])
                .iter()
                .filter_map(|(k, _)| k.as_scalar().map(ToString::to_string)),
        );
        let vars = self.files[idx].vars.clone();
        let dir = parent(&source.name);
        Some((self.register(source, root, dir, vars), service))
    }

    fn report_cycle(&mut self, chain: &[(usize, String, Span)], diags: &mut Diagnostics) {
        let mut key: Vec<(usize, String)> = chain.iter().map(|(f, s, _)| (*f, s.clone())).collect();
        key.sort();
        if !self.cycles_reported.insert(key) {
            return;
        }
        let steps: Vec<String> = chain
            .iter()
            .map(|(f, s, span)| {
                let src = &self.files[*f].source;
                let (line, _) = src.line_col(span.start);
                format!("`{s}` ({}:{line})", src.name)
            })
            .collect();
        let (f, _, span) = &chain[0];
        diags.push(
            Diagnostic::error(
                "SPEC122",
                format!(
                    "`extends` cycle: {} -> `{}` again",
                    steps.join(" -> "),
                    chain[0].1
                ),
            )
            .at(&self.files[*f].source.name, *span)
            .help("a service cannot extend itself, directly or through others"),
        );
    }

    /// Resolves every service (extends, then the top-level files' merge) and hands
    /// over what the conversion needs.
    pub fn finish(mut self, diags: &mut Diagnostics) -> Loaded {
        let order = self.order.clone();
        let services = self.resolve_all(&order, diags);
        self.report_missing(diags);
        let mut sources = self.sources;
        sources.sort_by(|a, b| a.name.cmp(&b.name));
        sources.dedup_by(|a, b| a.name == b.name);
        Loaded {
            name: self.name,
            order,
            services,
            networks: self.networks,
            sources,
            deploy_vars: self.deploy_vars.into_iter().collect(),
            env_secrets: self.env_secrets,
        }
    }

    fn resolve_all(
        &mut self,
        order: &[String],
        diags: &mut Diagnostics,
    ) -> BTreeMap<String, ComposeService> {
        let mut services = BTreeMap::new();
        for name in order {
            let defs: Vec<(usize, Origin)> =
                self.defs[name].iter().map(|d| (d.file, d.origin)).collect();
            let mut merged: Option<ComposeService> = None;
            for (file, _) in defs {
                let Some(svc) = self.resolve(file, name, &mut Vec::new(), diags) else {
                    continue;
                };
                match merged.as_mut() {
                    Some(m) => m.merge(svc),
                    None => merged = Some(svc),
                }
            }
            if let Some(m) = merged {
                services.insert(name.clone(), m);
            }
        }
        services
    }
}

struct IncludeEntry {
    paths: Vec<PathBuf>,
    env_files: Vec<PathBuf>,
    project_dir: PathBuf,
}

fn empty_node() -> Node {
    Node {
        value: yaml::Value::Map(Vec::new()),
        span: Span::new(0, 0),
    }
}

fn service_key_span(root: &Node, name: &str) -> Option<Span> {
    root.get("services")?
        .as_map()?
        .iter()
        .find(|(k, _)| k.as_scalar() == Some(name))
        .map(|(k, _)| k.span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(normalize(Path::new("a/./b/../c")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("../x/./y")), PathBuf::from("../x/y"));
        assert_eq!(
            relative_prefix(Path::new("/w"), Path::new("/w/sub/d")),
            "sub/d/"
        );
        assert_eq!(
            relative_prefix(Path::new("/w/a"), Path::new("/w/b")),
            "../b/"
        );
        assert_eq!(relative_prefix(Path::new(""), Path::new("")), "");
        assert_eq!(
            relative_prefix(Path::new(""), Path::new("subdir")),
            "subdir/"
        );
    }
}
