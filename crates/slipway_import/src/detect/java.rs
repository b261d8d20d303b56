//! Java: Maven (pom.xml: artifact, Java release, Spring Boot and its actuator) here,
//! Gradle in [`gradle`](super::gradle); the Spring Boot port from
//! `application.properties` or `application.yml` (`server.port`, `${PORT:5000}`),
//! else 8080.

use super::{port_in, version_in, Detector, Folder};
use quick_xml::events::Event;
use quick_xml::Reader;
use slipway_model::{BuildPlan, Language};

pub struct JavaDetector;

/// The few pom.xml facts detection needs.
#[derive(Default)]
struct Pom {
    artifact_id: Option<String>,
    version: Option<String>,
    java: Option<String>,
    dependencies: Vec<String>,
    parent: Option<String>,
}

fn read_pom(text: &str) -> Pom {
    let mut pom = Pom::default();
    let mut reader = Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
            }
            Ok(Event::End(_)) => {
                path.pop();
            }
            Ok(Event::Text(t)) => {
                let value = t
                    .unescape()
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default();
                let p: Vec<&str> = path.iter().map(String::as_str).collect();
                match p.as_slice() {
                    ["project", "artifactId"] => pom.artifact_id = Some(value),
                    ["project", "version"] => pom.version = Some(value),
                    ["project", "parent", "artifactId"] => pom.parent = Some(value),
                    ["project", "properties", "java.version" | "maven.compiler.release" | "maven.compiler.source"] =>
                    {
                        pom.java = pom.java.take().or(Some(value));
                    }
                    ["project", "dependencies", "dependency", "artifactId"] => {
                        pom.dependencies.push(value);
                    }
                    _ => {}
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    pom
}

/// `server.port` from Spring's config files, with `${PORT:5000}` read as its default.
pub(super) fn spring_port(f: &Folder) -> Option<(u16, &'static str)> {
    const DIR: &str = "src/main/resources";
    if let Some(p) = f
        .read(&format!("{DIR}/application.properties"))
        .and_then(|t| {
            t.lines()
                .map(str::trim)
                .find(|l| l.starts_with("server.port"))
                .and_then(port_value)
        })
    {
        return Some((p, "application.properties"));
    }
    for name in ["application.yml", "application.yaml"] {
        let Some(text) = f.read(&format!("{DIR}/{name}")) else {
            continue;
        };
        let mut in_server = false;
        for line in text.lines() {
            let indent = line.len() - line.trim_start().len();
            let t = line.trim();
            let found = if indent == 0 && !t.is_empty() && !t.starts_with('#') {
                in_server = t == "server:";
                t.strip_prefix("server.port:").map(|v| format!("port:{v}"))
            } else if in_server && t.starts_with("port:") {
                Some(t.to_string())
            } else {
                None
            };
            if let Some(p) = found.as_deref().and_then(port_value) {
                return Some((p, name));
            }
        }
    }
    None
}

/// The port in `server.port=8081`, `port: 8081` or `server.port=${PORT:5000}`.
fn port_value(line: &str) -> Option<u16> {
    let value = line.split_once(['=', ':']).map(|(_, v)| v.trim())?;
    let value = value.trim_matches(['"', '\'']);
    let value = value
        .strip_prefix("${")
        .and_then(|v| v.strip_suffix('}'))
        .and_then(|v| v.split_once(':').map(|(_, d)| d))
        .unwrap_or(value);
    value.trim().parse().ok()
}

/// The Java release from Heroku-style `system.properties` (`java.runtime.version=17`).
pub(super) fn system_java(f: &Folder) -> Option<String> {
    f.read("system.properties")?
        .lines()
        .find_map(|l| l.trim().strip_prefix("java.runtime.version"))
        .and_then(|v| version_in(v.trim_start_matches([' ', '=']).trim_start_matches("1."), 1))
}

impl Detector for JavaDetector {
    fn detect(&self, f: &Folder) -> Option<BuildPlan> {
        let Some(pom_text) = f.read("pom.xml") else {
            return super::gradle::detect(f);
        };
        let pom = read_pom(&pom_text);
        let mut guessed = Vec::new();
        let mut notes = Vec::new();
        let version = pom
            .java
            .as_deref()
            .and_then(|v| version_in(v.trim_start_matches("1."), 1))
            .or_else(|| system_java(f))
            .unwrap_or_else(|| {
                guessed.push("version".into());
                "17".into()
            });
        let spring = pom.parent.as_deref() == Some("spring-boot-starter-parent")
            || pom
                .dependencies
                .iter()
                .any(|d| d.starts_with("spring-boot-starter"));
        let actuator = pom
            .dependencies
            .iter()
            .any(|d| d == "spring-boot-starter-actuator");
        let port = match spring_port(f) {
            Some((p, file)) => {
                notes.push(format!("port {p} from {file} (server.port)"));
                p
            }
            None if spring => 8080,
            None => {
                let props = f
                    .read("src/main/resources/application.properties")
                    .unwrap_or_default();
                port_in(&props).unwrap_or_else(|| {
                    guessed.push("port".into());
                    8080
                })
            }
        };
        let health_path = if actuator {
            "/actuator/health".to_string()
        } else {
            guessed.push("health_path".into());
            "/".to_string()
        };
        // The jar Maven writes: artifactId-version.jar, unless the version is a property.
        let jar = match (&pom.artifact_id, &pom.version) {
            (Some(a), Some(v)) if !v.contains("${") => format!("{a}-{v}.jar"),
            _ => {
                guessed.push("entry".into());
                "*.jar".into()
            }
        };
        let mut manifests = vec!["pom.xml".to_string()];
        if f.has(".mvn") {
            manifests.push(".mvn".into());
        }
        if f.is_file("mvnw") {
            notes.push(
                "Maven wrapper (mvnw) found; the image builds with the Maven of its build image"
                    .into(),
            );
        }
        Some(BuildPlan {
            language: Language::Java,
            framework: spring.then(|| "spring-boot".into()),
            package_manager: "maven".into(),
            version,
            manifests,
            dev_manifests: Vec::new(),
            start: java_start(),
            dev_start: spring.then(|| vec!["mvn".into(), "-B".into(), "spring-boot:run".into()]),
            build: true,
            test: f
                .has("src/test")
                .then(|| vec!["mvn".into(), "-B".into(), "-q".into(), "test".into()]),
            port: Some(port),
            health_path: Some(health_path),
            entry: Some(jar),
            members: Vec::new(),
            guessed,
            notes,
        })
    }
}

/// Every Java image runs its one jar.
pub(super) fn java_start() -> Vec<String> {
    ["java", "-XX:MaxRAMPercentage=75", "-jar", "/app/app.jar"]
        .map(String::from)
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::port_value;

    #[test]
    fn spring_port_values() {
        assert_eq!(port_value("server.port=8081"), Some(8081));
        assert_eq!(port_value("server.port=${PORT:5000}"), Some(5000));
        assert_eq!(port_value("port: 9090"), Some(9090));
        assert_eq!(port_value("server.port=${PORT}"), None);
    }
}
