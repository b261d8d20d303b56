//! Python: requirements.txt, pyproject.toml (poetry, uv, pdm or plain pip), Pipfile,
//! or a lone `main.py`; the toolchain version from `.python-version`, `runtime.txt`,
//! `.tool-versions` or the manifests; the start command from
//! [`python_start`](super::python_start).

use super::python_start::{self, Deps};
use super::{health_in, version_in, Detector, Folder};
use slipway_model::{BuildPlan, Language};

pub struct PythonDetector;

const DEV_REQUIREMENTS: &[&str] = &[
    "requirements-dev.txt",
    "dev-requirements.txt",
    "requirements/dev.txt",
    "requirements-test.txt",
];

/// The package manager and the manifests its install step reads.
fn package_manager(
    f: &Folder,
    pyproject: Option<&toml::Table>,
    requirements: bool,
) -> (&'static str, Vec<String>) {
    let tool = |name: &str| pyproject.and_then(|p| p.get("tool")?.get(name)).is_some();
    let with_lock = |manifest: &str, lock: &str| {
        let mut m = vec![manifest.to_string()];
        if f.is_file(lock) {
            m.push(lock.to_string());
        }
        m
    };
    if f.is_file("uv.lock") {
        ("uv", vec!["pyproject.toml".into(), "uv.lock".into()])
    } else if f.is_file("poetry.lock") || tool("poetry") {
        ("poetry", with_lock("pyproject.toml", "poetry.lock"))
    } else if requirements {
        ("pip", vec!["requirements.txt".into()])
    } else if f.is_file("Pipfile") {
        ("pipenv", with_lock("Pipfile", "Pipfile.lock"))
    } else if pyproject.is_some() {
        // pdm's lock is not read: the install step takes [project] dependencies.
        let pdm = f.is_file("pdm.lock") || tool("pdm");
        (
            if pdm { "pdm" } else { "pip" },
            vec!["pyproject.toml".into()],
        )
    } else {
        ("pip", Vec::new())
    }
}

/// The toolchain version, from the most specific place that names one.
fn version(f: &Folder, pyproject: Option<&toml::Table>) -> Option<String> {
    let project = |key: &str| -> Option<String> {
        let p = pyproject?;
        let v = match key {
            "requires-python" => p.get("project")?.get("requires-python")?,
            _ => p
                .get("tool")?
                .get("poetry")?
                .get("dependencies")?
                .get("python")?,
        };
        version_in(v.as_str()?, 2)
    };
    f.read(".python-version")
        .and_then(|t| version_in(t.trim(), 2))
        .or_else(|| project("requires-python"))
        .or_else(|| project("poetry"))
        .or_else(|| f.read("runtime.txt").and_then(|t| version_in(&t, 2)))
        .or_else(|| {
            f.read(".tool-versions")?
                .lines()
                .find_map(|l| l.trim().strip_prefix("python "))
                .and_then(|v| version_in(v, 2))
        })
        .or_else(|| {
            f.read("Pipfile")?
                .lines()
                .find_map(|l| l.trim().strip_prefix("python_version"))
                .and_then(|v| version_in(v, 2))
        })
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

/// Dependency names, lowercased, from every place they may be declared.
fn dependencies(
    f: &Folder,
    requirements: Option<&str>,
    dev: Option<&str>,
    pyproject: Option<&toml::Table>,
) -> Vec<String> {
    let mut deps: Vec<String> = Vec::new();
    for text in [requirements, dev].into_iter().flatten() {
        deps.extend(text.lines().filter_map(requirement_name));
    }
    let strs = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(|l| l.as_array())
            .into_iter()
            .flatten()
            .filter_map(|x| requirement_name(x.as_str()?))
            .collect()
    };
    let keys = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(|t| t.as_table())
            .into_iter()
            .flat_map(|t| t.keys())
            .map(|k| k.to_ascii_lowercase().replace('_', "-"))
            .collect()
    };
    if let Some(p) = pyproject {
        let project = p.get("project");
        deps.extend(strs(project.and_then(|x| x.get("dependencies"))));
        deps.extend(strs(p.get("dependency-groups").and_then(|g| g.get("dev"))));
        if let Some(opt) = project
            .and_then(|x| x.get("optional-dependencies"))
            .and_then(|o| o.as_table())
        {
            for v in opt.values() {
                deps.extend(strs(Some(v)));
            }
        }
        let poetry = p.get("tool").and_then(|t| t.get("poetry"));
        deps.extend(keys(poetry.and_then(|x| x.get("dependencies"))));
        deps.extend(keys(poetry.and_then(|x| x.get("dev-dependencies"))));
        deps.extend(keys(
            poetry
                .and_then(|x| x.get("group"))
                .and_then(|g| g.get("dev"))
                .and_then(|d| d.get("dependencies")),
        ));
    }
    if let Some(pipfile) = f
        .read("Pipfile")
        .and_then(|t| t.parse::<toml::Table>().ok())
    {
        deps.extend(keys(pipfile.get("packages")));
        deps.extend(keys(pipfile.get("dev-packages")));
    }
    deps
}

impl Detector for PythonDetector {
    fn detect(&self, f: &Folder) -> Option<BuildPlan> {
        let pyproject = f
            .read("pyproject.toml")
            .and_then(|t| t.parse::<toml::Table>().ok());
        let requirements = f.read("requirements.txt");
        if pyproject.is_none()
            && requirements.is_none()
            && !["manage.py", "Pipfile", "main.py"]
                .iter()
                .any(|m| f.is_file(m))
        {
            return None;
        }
        let mut guessed = Vec::new();
        let mut notes = Vec::new();
        let (pm, mut manifests) = package_manager(f, pyproject.as_ref(), requirements.is_some());
        manifests.sort();
        if pm == "pdm" {
            notes.push("pdm project: the image installs the [project] dependencies with pip; pdm.lock is not read".into());
        }
        let dev_manifests: Vec<String> = if pm == "pip" && requirements.is_some() {
            f.first(DEV_REQUIREMENTS)
                .map(|s| vec![s.to_string()])
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let dev_text = dev_manifests.first().and_then(|d| f.read(d));
        let names = dependencies(
            f,
            requirements.as_deref(),
            dev_text.as_deref(),
            pyproject.as_ref(),
        );
        let version = version(f, pyproject.as_ref()).unwrap_or_else(|| {
            guessed.push("version".into());
            "3.12".into()
        });
        let deps = Deps {
            names,
            project_name: pyproject
                .as_ref()
                .and_then(|p| p.get("project")?.get("name")?.as_str().map(String::from)),
        };
        let started = python_start::start(f, &deps, &mut notes);
        if started.guessed {
            guessed.push("start".into());
        }
        let port = started.port.unwrap_or_else(|| {
            guessed.push("port".into());
            8000
        });
        let framework = started.framework;
        let source = started.source.as_deref().and_then(|s| f.read(s));
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
                Some(if framework == Some("django") {
                    "/".into()
                } else {
                    "/health".into()
                })
            });
        let test = (deps.has("pytest") || f.has("pytest.ini") || f.has("conftest.py"))
            .then(|| ["python3", "-m", "pytest", "-q"].map(String::from).to_vec());
        Some(BuildPlan {
            language: Language::Python,
            framework: framework.map(ToString::to_string),
            package_manager: pm.into(),
            version,
            manifests,
            dev_manifests,
            start: started.argv,
            dev_start: started.dev,
            build: false,
            test,
            port: Some(port),
            health_path,
            entry: None,
            members: Vec::new(),
            guessed,
            notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::requirement_name;

    #[test]
    fn requirement_names_are_normalised() {
        assert_eq!(
            requirement_name("Django_Rest>=4.2 ; python_version > '3'").as_deref(),
            Some("django-rest")
        );
        assert_eq!(requirement_name("# comment"), None);
        assert_eq!(requirement_name("-r base.txt"), None);
    }
}
