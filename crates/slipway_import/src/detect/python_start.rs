//! How a Python app starts, in the order a user would look: a `Procfile`, Django
//! (the project named by `WSGI_APPLICATION`), an app object that FastAPI or Flask
//! builds, then a script: `main.py`, a package's `__main__.py`, another entry file by
//! name. A framework counts only when its app object is found; a start command only
//! names files that exist; otherwise a note says what was looked for.

use super::{file_args, port_in, procfile_web, Folder};

/// The dependency names (lowercased, `-` for `_`) and the project's name.
pub(super) struct Deps {
    pub names: Vec<String>,
    pub project_name: Option<String>,
}

impl Deps {
    pub fn has(&self, name: &str) -> bool {
        self.names.iter().any(|d| d == name)
    }
}

/// A start command and what came with it.
#[derive(Default)]
pub(super) struct Start {
    pub argv: Vec<String>,
    pub dev: Option<Vec<String>>,
    pub framework: Option<&'static str>,
    pub port: Option<u16>,
    /// The file to read for a health route.
    pub source: Option<String>,
    /// Chosen by a file name alone.
    pub guessed: bool,
}

/// Where an app object (`app = FastAPI()`) is looked for.
const APP_FILES: &[&str] = &[
    "main.py",
    "app.py",
    "app/main.py",
    "src/main.py",
    "api/main.py",
    "server.py",
    "application.py",
    "wsgi.py",
    "asgi.py",
    "app/__init__.py",
    "app/app.py",
];

/// Scripts run as they are when no framework is found; `main.py` first, as nixpacks.
const SCRIPTS: &[&str] = &["main.py", "app.py", "server.py", "run.py", "src/main.py"];

fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(ToString::to_string).collect()
}

/// The start command for a Python folder; `argv` is empty when none was found.
pub(super) fn start(f: &Folder, deps: &Deps, notes: &mut Vec<String>) -> Start {
    if let Some((cmd, argv)) = procfile_web(f) {
        let files = file_args(&cmd);
        if let Some(missing) = files.iter().find(|p| !f.is_file(p)) {
            notes.push(format!(
                "Procfile `web: {cmd}` names `{missing}`, which is not in the folder"
            ));
        } else {
            notes.push(format!("start command from Procfile `web: {cmd}`"));
            let source = files.first().cloned();
            return Start {
                port: port_in(&cmd).or_else(|| {
                    source
                        .as_deref()
                        .and_then(|s| f.read(s))
                        .as_deref()
                        .and_then(port_in)
                }),
                source,
                argv,
                ..Start::default()
            };
        }
    }
    if f.is_file("manage.py") || deps.has("django") {
        if let Some(s) = django(f, deps, notes) {
            return s;
        }
    }
    for framework in ["fastapi", "flask"] {
        if deps.has(framework) {
            if let Some(s) = app_object(f, deps, framework, notes) {
                return s;
            }
        }
    }
    script(f, deps, notes)
}

/// The Django project module: `WSGI_APPLICATION = "mysite.wsgi.application"` in a
/// settings file, else the folder that holds `wsgi.py`.
fn django_project(f: &Folder) -> Option<String> {
    for settings in f.find("", &["settings.py"], 2, 20) {
        let Some(text) = f.read(&settings) else {
            continue;
        };
        let found = text.lines().find_map(|l| {
            let rest = l.trim().strip_prefix("WSGI_APPLICATION")?;
            let value = rest.trim_start().strip_prefix('=')?.trim();
            let value = value.trim_matches(['"', '\'']);
            value.strip_suffix(".application").map(str::to_string)
        });
        if let Some(module) = found {
            return Some(module);
        }
    }
    f.list("", true)
        .into_iter()
        .find(|d| f.is_file(&format!("{d}/wsgi.py")))
        .map(|d| format!("{d}.wsgi"))
}

fn django(f: &Folder, deps: &Deps, notes: &mut Vec<String>) -> Option<Start> {
    let module = django_project(f);
    let project = module
        .as_deref()
        .map(|m| m.trim_end_matches(".wsgi").replace('.', "/"));
    let dev = argv(&["python3", "manage.py", "runserver", "0.0.0.0:8000"]);
    let argv = match (&module, deps.has("gunicorn"), f.is_file("manage.py")) {
        (Some(m), true, _) => argv(&[
            "gunicorn",
            &format!("{m}:application"),
            "--bind",
            "0.0.0.0:8000",
            "--workers",
            "2",
        ]),
        (_, _, true) => {
            notes.push("Django without gunicorn among the dependencies: Django's own server runs (`manage.py runserver`); add gunicorn for production".into());
            argv(&[
                "python3",
                "manage.py",
                "runserver",
                "0.0.0.0:8000",
                "--noreload",
            ])
        }
        _ => {
            notes.push("django is a dependency, but there is no manage.py and no WSGI_APPLICATION setting to run".into());
            return None;
        }
    };
    Some(Start {
        argv,
        dev: Some(dev),
        framework: Some("django"),
        port: Some(8000),
        source: project.map(|p| format!("{p}/urls.py")),
        guessed: false,
    })
}

/// `app/main.py` -> `app.main`, `app/__init__.py` -> `app`.
fn module_of(file: &str) -> String {
    file.trim_end_matches(".py")
        .trim_end_matches("/__init__")
        .replace('/', ".")
}

/// A FastAPI or Flask app object in one of the usual files, served by the server the
/// dependencies provide.
fn app_object(
    f: &Folder,
    deps: &Deps,
    framework: &'static str,
    notes: &mut Vec<String>,
) -> Option<Start> {
    let ctor = if framework == "fastapi" {
        "FastAPI("
    } else {
        "Flask("
    };
    let found = APP_FILES.iter().find_map(|file| {
        let text = f.read(file)?;
        let var = text.lines().find_map(|l| {
            let (lhs, rhs) = l.split_once('=')?;
            let lhs = lhs.trim();
            (rhs.trim_start().starts_with(ctor)
                && !lhs.is_empty()
                && lhs.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .then(|| lhs.to_string())
        })?;
        Some((*file, var))
    });
    let Some((file, var)) = found else {
        notes.push(format!(
            "{framework} is a dependency, but no `{ctor}` app object was found in {}",
            APP_FILES.join(", ")
        ));
        return None;
    };
    let target = format!("{}:{var}", module_of(file));
    let gunicorn = deps.has("gunicorn");
    let mut s = Start {
        framework: Some(framework),
        source: Some(file.to_string()),
        ..Start::default()
    };
    if framework == "fastapi" {
        s.port = Some(8000);
        s.argv = if gunicorn {
            argv(&[
                "gunicorn",
                &target,
                "--worker-class",
                "uvicorn.workers.UvicornWorker",
                "--bind",
                "0.0.0.0:8000",
            ])
        } else {
            if !deps.has("uvicorn") {
                notes.push("uvicorn is not among the dependencies: add it (or `fastapi[standard]`) so the start command can run".into());
                s.guessed = true;
            }
            argv(&["uvicorn", &target, "--host", "0.0.0.0", "--port", "8000"])
        };
        s.dev = Some(argv(&[
            "uvicorn", &target, "--host", "0.0.0.0", "--port", "8000", "--reload",
        ]));
    } else {
        let port: u16 = if gunicorn { 8000 } else { 5000 };
        s.port = Some(port);
        s.argv = if gunicorn {
            argv(&[
                "gunicorn",
                "--bind",
                "0.0.0.0:8000",
                "--workers",
                "2",
                &target,
            ])
        } else {
            notes.push("Flask without gunicorn among the dependencies: Flask's own server runs (`flask run`, port 5000); add gunicorn for production".into());
            argv(&[
                "flask", "--app", &target, "run", "--host", "0.0.0.0", "--port", "5000",
            ])
        };
        s.dev = Some(argv(&[
            "flask",
            "--app",
            &target,
            "run",
            "--debug",
            "--host",
            "0.0.0.0",
            "--port",
            &port.to_string(),
        ]));
    }
    Some(s)
}

/// A plain script: `main.py`, a package with `__main__.py` (`python -m`), or another
/// entry file by name.
fn script(f: &Folder, deps: &Deps, notes: &mut Vec<String>) -> Start {
    let with_port = |argv: Vec<String>, source: &str, guessed: bool| Start {
        port: f.read(source).as_deref().and_then(port_in),
        argv,
        source: Some(source.to_string()),
        guessed,
        ..Start::default()
    };
    if f.is_file("main.py") {
        notes.push("no framework app object found: runs main.py".into());
        return with_port(argv(&["python3", "main.py"]), "main.py", true);
    }
    // The project's own package, then any top-level package with a __main__.py.
    let mut packages: Vec<String> = deps.project_name.iter().cloned().collect();
    packages.extend(f.list("", true));
    for pkg in packages {
        for dir in [pkg.clone(), format!("src/{pkg}")] {
            let main = format!("{dir}/__main__.py");
            if f.is_file(&main) {
                let module = dir.trim_start_matches("src/").to_string();
                let mut s = with_port(argv(&["python3", "-m", &module]), &main, false);
                if dir.starts_with("src/") {
                    s.argv = argv(&["sh", "-c", &format!("cd src && exec python3 -m {module}")]);
                }
                return s;
            }
        }
    }
    if let Some(file) = f.first(&SCRIPTS[1..]) {
        notes.push(format!(
            "no framework app object found: runs {file}, found by its name"
        ));
        return with_port(argv(&["python3", file]), file, true);
    }
    notes.push(format!(
        "no start command: no Procfile, no Django project, no FastAPI or Flask app object, no package with __main__.py, and none of {} exists; set `command:` for this service",
        SCRIPTS.join(", ")
    ));
    Start::default()
}
