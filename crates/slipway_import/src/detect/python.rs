//! Python: requirements.txt, pyproject.toml with poetry, uv or plain pip; Django,
//! `FastAPI` and Flask start commands.

use super::{health_in, version_in, Detector, Folder};
use slipway_model::{BuildPlan, Language};

pub struct PythonDetector;

const DEV_REQUIREMENTS: &[&str] = &[
    "requirements-dev.txt",
    "dev-requirements.txt",
    "requirements/dev.txt",
    "requirements-test.txt",
];
const ENTRY_FILES: &[&str] = &[
    "main.py",
    "app.py",
    "app/main.py",
    "src/main.py",
    "api/main.py",
    "server.py",
    "application.py",
    "wsgi.py",
    "app/__init__.py",
    "app/app.py",
];

impl Detector for PythonDetector {
    fn detect(&self, f: &Folder) -> Option<BuildPlan> {
        let pyproject = f
            .read("pyproject.toml")
            .and_then(|t| t.parse::<toml::Table>().ok());
        let requirements = f.read("requirements.txt");
        if pyproject.is_none() && requirements.is_none() && !f.has("manage.py") {
            return None;
        }
        let mut guessed = Vec::new();
        let poetry = pyproject
            .as_ref()
            .and_then(|p| p.get("tool")?.get("poetry"))
            .cloned();
        let (pm, mut manifests) = if f.has("uv.lock") {
            (
                "uv",
                vec!["pyproject.toml".to_string(), "uv.lock".to_string()],
            )
        } else if f.has("poetry.lock") || poetry.is_some() {
            let mut m = vec!["pyproject.toml".to_string()];
            if f.has("poetry.lock") {
                m.push("poetry.lock".into());
            }
            ("poetry", m)
        } else if requirements.is_some() {
            ("pip", vec!["requirements.txt".to_string()])
        } else if pyproject.is_some() {
            ("pip", vec!["pyproject.toml".to_string()])
        } else {
            guessed.push("package_manager".to_string());
            ("pip", Vec::new())
        };
        manifests.sort();
        let dev_manifests: Vec<String> = if pm == "pip" && requirements.is_some() {
            f.first(DEV_REQUIREMENTS)
                .map(|s| vec![s.to_string()])
                .unwrap_or_default()
        } else {
            Vec::new()
        };

        // Dependency names, lowercased, from every place they may be declared.
        let mut deps: Vec<String> = Vec::new();
        for text in [
            requirements.clone(),
            dev_manifests.first().and_then(|d| f.read(d)),
        ]
        .into_iter()
        .flatten()
        {
            deps.extend(text.lines().filter_map(requirement_name));
        }
        if let Some(p) = &pyproject {
            let project = p.get("project");
            for list in [
                project.and_then(|x| x.get("dependencies")),
                p.get("dependency-groups").and_then(|g| g.get("dev")),
            ] {
                if let Some(arr) = list.and_then(|l| l.as_array()) {
                    deps.extend(arr.iter().filter_map(|v| requirement_name(v.as_str()?)));
                }
            }
            if let Some(opt) = project
                .and_then(|x| x.get("optional-dependencies"))
                .and_then(|o| o.as_table())
            {
                deps.extend(
                    opt.values()
                        .filter_map(|v| v.as_array())
                        .flatten()
                        .filter_map(|v| requirement_name(v.as_str()?)),
                );
            }
        }
        if let Some(poetry) = &poetry {
            for table in [
                poetry.get("dependencies"),
                poetry.get("dev-dependencies"),
                poetry
                    .get("group")
                    .and_then(|g| g.get("dev"))
                    .and_then(|d| d.get("dependencies")),
            ] {
                if let Some(t) = table.and_then(|t| t.as_table()) {
                    deps.extend(t.keys().map(|k| k.to_ascii_lowercase()));
                }
            }
        }
        let has = |name: &str| deps.iter().any(|d| d == name);

        let version = f
            .read(".python-version")
            .and_then(|t| version_in(t.trim(), 2))
            .or_else(|| {
                pyproject
                    .as_ref()?
                    .get("project")?
                    .get("requires-python")?
                    .as_str()
                    .and_then(|c| version_in(c, 2))
            })
            .or_else(|| {
                poetry
                    .as_ref()?
                    .get("dependencies")?
                    .get("python")?
                    .as_str()
                    .and_then(|c| version_in(c, 2))
            })
            .or_else(|| f.read("runtime.txt").and_then(|t| version_in(&t, 2)))
            .unwrap_or_else(|| {
                guessed.push("version".into());
                "3.12".into()
            });

        let (framework, start, dev_start, port, source) = start_command(f, &has, &mut guessed);
        let django_health = |t: &str| {
            ["health/", "healthz/"]
                .into_iter()
                .find(|p| t.contains(&format!("\"{p}\"")) || t.contains(&format!("'{p}'")))
                .map(|p| format!("/{p}"))
        };
        let health_path = source
            .as_deref()
            .and_then(|t| health_in(t).or_else(|| django_health(t)))
            .or_else(|| {
                guessed.push("health_path".into());
                Some(if framework.as_deref() == Some("django") {
                    "/".into()
                } else {
                    "/health".into()
                })
            });
        let test = (has("pytest") || f.has("pytest.ini") || f.has("conftest.py"))
            .then(|| argv(&["python3", "-m", "pytest", "-q"]));
        Some(BuildPlan {
            language: Language::Python,
            framework,
            package_manager: pm.into(),
            version,
            manifests,
            dev_manifests,
            start,
            dev_start,
            build: false,
            test,
            port: Some(port),
            health_path,
            entry: None,
            members: Vec::new(),
            guessed,
        })
    }
}

fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(ToString::to_string).collect()
}

/// The distribution name at the start of a requirement line (`Django>=4.2 ; ...`).
fn requirement_name(line: &str) -> Option<String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with(['#', '-']) {
        return None;
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(line.len());
    let name = line[..end].to_ascii_lowercase().replace('_', "-");
    (!name.is_empty()).then_some(name)
}

type Start = (
    Option<String>,
    Vec<String>,
    Option<Vec<String>>,
    u16,
    Option<String>,
);

/// Framework, production and development start commands, port, and the entry
/// file's text (searched for a health route).
fn start_command(f: &Folder, has: &dyn Fn(&str) -> bool, guessed: &mut Vec<String>) -> Start {
    let gunicorn = has("gunicorn");
    if f.has("manage.py") || has("django") {
        let project = f
            .list("", true)
            .into_iter()
            .find(|d| f.has(&format!("{d}/wsgi.py")))
            .unwrap_or_else(|| {
                guessed.push("start".into());
                "config".into()
            });
        let urls = f.read(&format!("{project}/urls.py"));
        let start = if gunicorn {
            argv(&[
                "gunicorn",
                &format!("{project}.wsgi:application"),
                "--bind",
                "0.0.0.0:8000",
                "--workers",
                "2",
            ])
        } else {
            guessed.push("start".into());
            argv(&[
                "python3",
                "manage.py",
                "runserver",
                "0.0.0.0:8000",
                "--noreload",
            ])
        };
        let dev = argv(&["python3", "manage.py", "runserver", "0.0.0.0:8000"]);
        return (Some("django".into()), start, Some(dev), 8000, urls);
    }
    for (framework, ctor) in [("fastapi", "FastAPI("), ("flask", "Flask(")] {
        if !has(framework) {
            continue;
        }
        let found = ENTRY_FILES.iter().find_map(|file| {
            let text = f.read(file)?;
            let var = text.lines().find_map(|l| {
                let (lhs, rhs) = l.split_once('=')?;
                rhs.trim_start()
                    .starts_with(ctor)
                    .then(|| lhs.trim().to_string())
            })?;
            Some((module_of(file), var, text))
        });
        let (module, var, text) = found.unwrap_or_else(|| {
            guessed.push("start".into());
            ("main".into(), "app".into(), String::new())
        });
        let target = format!("{module}:{var}");
        let (start, dev, port) = if framework == "fastapi" {
            let start = if gunicorn {
                argv(&[
                    "gunicorn",
                    &target,
                    "--worker-class",
                    "uvicorn.workers.UvicornWorker",
                    "--bind",
                    "0.0.0.0:8000",
                ])
            } else {
                argv(&["uvicorn", &target, "--host", "0.0.0.0", "--port", "8000"])
            };
            (
                start,
                argv(&[
                    "uvicorn", &target, "--host", "0.0.0.0", "--port", "8000", "--reload",
                ]),
                8000,
            )
        } else {
            let port = if gunicorn { 8000 } else { 5000 };
            let start = if gunicorn {
                argv(&[
                    "gunicorn",
                    "--bind",
                    "0.0.0.0:8000",
                    "--workers",
                    "2",
                    &target,
                ])
            } else {
                guessed.push("start".into());
                argv(&[
                    "flask", "--app", &target, "run", "--host", "0.0.0.0", "--port", "5000",
                ])
            };
            (
                start,
                argv(&[
                    "flask",
                    "--app",
                    &target,
                    "run",
                    "--debug",
                    "--host",
                    "0.0.0.0",
                    "--port",
                    &port.to_string(),
                ]),
                port,
            )
        };
        return (Some(framework.into()), start, Some(dev), port, Some(text));
    }
    guessed.push("start".into());
    guessed.push("port".into());
    let file = f
        .first(&["main.py", "app.py", "server.py"])
        .unwrap_or("main.py");
    (None, argv(&["python3", file]), None, 8000, f.read(file))
}

/// `app/main.py` -> `app.main`, `app/__init__.py` -> `app`.
fn module_of(file: &str) -> String {
    file.trim_end_matches(".py")
        .trim_end_matches("/__init__")
        .replace('/', ".")
}
