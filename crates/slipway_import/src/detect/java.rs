//! Java with Maven: pom.xml (artifact, Java release, Spring Boot and its actuator).

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

impl Detector for JavaDetector {
    fn detect(&self, f: &Folder) -> Option<BuildPlan> {
        let pom = read_pom(&f.read("pom.xml")?);
        let mut guessed = Vec::new();
        let version = pom
            .java
            .as_deref()
            .and_then(|v| version_in(v.trim_start_matches("1."), 1))
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
        let props = f
            .read("src/main/resources/application.properties")
            .unwrap_or_default();
        let port = port_in(&props).unwrap_or_else(|| {
            guessed.push("port".into());
            8080
        });
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
        Some(BuildPlan {
            language: Language::Java,
            framework: spring.then(|| "spring-boot".into()),
            package_manager: "maven".into(),
            version,
            manifests,
            dev_manifests: Vec::new(),
            start: vec![
                "java".into(),
                "-XX:MaxRAMPercentage=75".into(),
                "-jar".into(),
                "/app/app.jar".into(),
            ],
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
        })
    }
}
