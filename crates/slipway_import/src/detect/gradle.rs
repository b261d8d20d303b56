//! Java with Gradle: `build.gradle` (Groovy DSL) or `build.gradle.kts` (Kotlin DSL),
//! `settings.gradle(.kts)`, and the wrapper when it is complete (`gradlew`, its
//! properties and its jar). Spring Boot from its plugin, the Java release from
//! `sourceCompatibility`, a toolchain or `system.properties`. The build files are
//! scripts: they are read as text, never run.

use super::java::{java_start, spring_port, system_java};
use super::{version_in, Folder};
use slipway_model::{BuildPlan, Language};

const BUILD_FILES: &[&str] = &["build.gradle.kts", "build.gradle"];
const SETTINGS_FILES: &[&str] = &["settings.gradle.kts", "settings.gradle"];
const WRAPPER: &[&str] = &[
    "gradlew",
    "gradle/wrapper/gradle-wrapper.properties",
    "gradle/wrapper/gradle-wrapper.jar",
];

/// The value after `key` up to the end of the line, unquoted: `rootProject.name =
/// 'app'` -> `app`.
fn assigned(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix(key)?.trim_start();
        let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
        let v = rest.trim_matches(['"', '\'', ' ']);
        (!v.is_empty() && !v.contains(['(', '{', '$'])).then(|| v.to_string())
    })
}

/// The Java release a build file asks for.
fn java_release(build: &str) -> Option<String> {
    for key in [
        "JavaLanguageVersion.of(",
        "JavaVersion.VERSION_",
        "sourceCompatibility",
        "jvmTarget",
    ] {
        if let Some(at) = build.find(key) {
            let rest = &build[at + key.len()..];
            let line = rest.lines().next().unwrap_or_default();
            let line = line.replace('_', ".");
            let v = line.trim_start_matches([' ', '=', '\'', '"']);
            let v = v.strip_prefix("1.").unwrap_or(v);
            if let Some(found) = version_in(v, 1) {
                return Some(found);
            }
        }
    }
    None
}

/// Without Spring Boot, `java -jar` needs a `Main-Class` in the jar's manifest.
fn has_main_class(build: &str) -> bool {
    build.contains("Main-Class")
}

pub(super) fn detect(f: &Folder) -> Option<BuildPlan> {
    let build_file = f.first(BUILD_FILES);
    let settings_file = f.first(SETTINGS_FILES);
    if build_file.is_none() && settings_file.is_none() {
        return None;
    }
    let build = build_file.and_then(|b| f.read(b)).unwrap_or_default();
    let settings = settings_file.and_then(|s| f.read(s)).unwrap_or_default();
    let mut guessed = Vec::new();
    let mut notes = Vec::new();
    let dsl = if build_file == Some("build.gradle.kts") {
        "Kotlin"
    } else {
        "Groovy"
    };
    let wrapper = WRAPPER.iter().all(|w| f.is_file(w));
    if f.is_file("gradlew") && !wrapper {
        notes.push("gradlew is there but gradle/wrapper/gradle-wrapper.jar or its properties are missing: the image builds with the Gradle of its build image".into());
    }
    let version = java_release(&build)
        .or_else(|| system_java(f))
        .unwrap_or_else(|| {
            guessed.push("version".into());
            "17".into()
        });
    let spring = build.contains("org.springframework.boot");
    let actuator = build.contains("spring-boot-starter-actuator");
    let port = match spring_port(f) {
        Some((p, file)) => {
            notes.push(format!("port {p} from {file} (server.port)"));
            p
        }
        None if spring => 8080,
        None => {
            guessed.push("port".into());
            8080
        }
    };
    let health_path = if actuator {
        "/actuator/health".to_string()
    } else {
        guessed.push("health_path".into());
        "/".to_string()
    };
    if !spring && !has_main_class(&build) {
        notes.push(format!("{} sets no Main-Class for the jar: `java -jar` needs one (jar {{ manifest {{ attributes 'Main-Class': ... }} }})", build_file.unwrap_or("the build file")));
    }
    // The jar Gradle writes: <rootProject.name>-<version>.jar (Spring Boot also writes
    // a `-plain.jar`, which the image skips).
    let name = assigned(&settings, "rootProject.name");
    let jar = match (name, assigned(&build, "version")) {
        (Some(n), Some(v)) => format!("{n}-{v}.jar"),
        (Some(n), None) => format!("{n}.jar"),
        _ => {
            guessed.push("entry".into());
            "*.jar".into()
        }
    };
    let mut manifests: Vec<String> = build_file
        .into_iter()
        .chain(settings_file)
        .map(String::from)
        .collect();
    if f.is_file("gradle.properties") {
        manifests.push("gradle.properties".into());
    }
    if wrapper {
        manifests.extend(WRAPPER.iter().map(|w| (*w).to_string()));
    }
    manifests.sort();
    notes.push(format!(
        "Gradle ({dsl} DSL{}), read as text",
        if wrapper { ", wrapper" } else { "" }
    ));
    let gradle = if wrapper { "./gradlew" } else { "gradle" };
    Some(BuildPlan {
        language: Language::Java,
        framework: spring.then(|| "spring-boot".into()),
        package_manager: "gradle".into(),
        version,
        manifests,
        dev_manifests: Vec::new(),
        start: java_start(),
        dev_start: Some(vec![
            gradle.into(),
            "--no-daemon".into(),
            if spring { "bootRun" } else { "run" }.into(),
        ]),
        build: true,
        test: f.has("src/test").then(|| {
            vec![
                gradle.into(),
                "--no-daemon".into(),
                "-q".into(),
                "test".into(),
            ]
        }),
        port: Some(port),
        health_path: Some(health_path),
        entry: Some(jar),
        members: Vec::new(),
        guessed,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::{assigned, java_release};

    #[test]
    fn facts_from_build_scripts() {
        assert_eq!(
            assigned("rootProject.name = 'java-gradle-8'", "rootProject.name").as_deref(),
            Some("java-gradle-8")
        );
        assert_eq!(
            assigned("version = \"1.0\"", "version").as_deref(),
            Some("1.0")
        );
        assert_eq!(
            java_release("sourceCompatibility = 1.8").as_deref(),
            Some("8")
        );
        assert_eq!(
            java_release("java {\n\tsourceCompatibility = '17'\n}").as_deref(),
            Some("17")
        );
        assert_eq!(
            java_release("toolchain { languageVersion = JavaLanguageVersion.of(21) }").as_deref(),
            Some("21")
        );
        assert_eq!(
            java_release("sourceCompatibility = JavaVersion.VERSION_11").as_deref(),
            Some("11")
        );
    }
}
