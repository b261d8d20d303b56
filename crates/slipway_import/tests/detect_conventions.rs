//! One test per framework convention detection knows: the start command it reads or
//! derives, the port from the framework's default or the project's config, and what
//! it says when it cannot find a start command (never a file that does not exist).

use slipway_import::detect::detect_folder;
use slipway_model::BuildPlan;

/// A folder holding `files` (path, text), detected.
fn plan(files: &[(&str, &str)]) -> BuildPlan {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    detect_folder(dir.path()).expect("a language is detected")
}

fn start(p: &BuildPlan) -> String {
    p.start.join(" ")
}

fn guessed(p: &BuildPlan, field: &str) -> bool {
    p.guessed.iter().any(|g| g == field)
}

// --- Node -----------------------------------------------------------------------

#[test]
fn node_without_any_entry_has_no_start_command_and_says_why() {
    let p = plan(&[("package.json", r#"{"name": "x", "main": "index.js"}"#)]);
    assert!(p.start.is_empty(), "{p:?}");
    let note = p
        .notes
        .iter()
        .find(|n| n.starts_with("no start command"))
        .unwrap();
    assert!(
        note.contains("`main` names index.js, which does not exist"),
        "{note}"
    );
    assert!(note.contains("set `command:`"), "{note}");
}

#[test]
fn node_main_is_used_only_when_the_file_exists() {
    let p = plan(&[
        ("package.json", r#"{"main": "inbex.js"}"#),
        (
            "server.js",
            "require('http').createServer().listen(process.env.PORT || 8080)",
        ),
    ]);
    assert_eq!(start(&p), "node server.js");
    assert!(guessed(&p, "start"), "found by its name: {p:?}");
    assert_eq!(p.port, Some(8080));
    let p = plan(&[
        ("package.json", r#"{"main": "src/app.js"}"#),
        ("src/app.js", "app.listen(4000)"),
    ]);
    assert_eq!(start(&p), "node src/app.js");
    assert!(!guessed(&p, "start"));
}

#[test]
fn node_bin_names_the_entry() {
    let p = plan(&[
        ("package.json", r#"{"bin": {"tool": "./cli.js"}}"#),
        ("cli.js", ""),
    ]);
    assert_eq!(start(&p), "node cli.js");
}

#[test]
fn node_start_script_runs_directly_when_plain_and_through_the_package_manager_otherwise() {
    let p = plan(&[
        (
            "package.json",
            r#"{"scripts": {"start": "node server.js"}, "dependencies": {"express": "4"}}"#,
        ),
        ("package-lock.json", "{}"),
        (
            "server.js",
            "const port = process.env.PORT || 3001;\napp.get('/healthz', h);",
        ),
    ]);
    assert_eq!(start(&p), "node server.js");
    assert_eq!(p.framework.as_deref(), Some("express"));
    assert_eq!(
        (p.port, p.health_path.as_deref()),
        (Some(3001), Some("/healthz"))
    );
    let p = plan(&[
        (
            "package.json",
            r#"{"scripts": {"start": "prisma migrate deploy && node dist/index.js", "build": "tsc"}}"#,
        ),
        ("yarn.lock", ""),
    ]);
    assert_eq!(start(&p), "yarn run start");
}

#[test]
fn node_start_script_naming_a_missing_file_is_not_proposed() {
    let p = plan(&[(
        "package.json",
        r#"{"scripts": {"start": "node server.js"}}"#,
    )]);
    assert!(p.start.is_empty(), "{p:?}");
    assert!(
        p.notes[0].contains("names `server.js`, which is not in the folder"),
        "{:?}",
        p.notes
    );
}

#[test]
fn node_build_output_counts_as_existing() {
    let p = plan(&[
        (
            "package.json",
            r#"{"scripts": {"build": "tsc", "start": "node out/main.js"}}"#,
        ),
        (
            "tsconfig.json",
            "{\n  // comment\n  \"compilerOptions\": { \"outDir\": \"./out\" }\n}",
        ),
        ("src/main.ts", "server.listen(7000)"),
    ]);
    assert_eq!(start(&p), "node out/main.js");
    assert_eq!(p.port, Some(7000), "port read from the TypeScript source");
}

#[test]
fn next_starts_with_next_start_on_3000() {
    let p = plan(&[(
        "package.json",
        r#"{"scripts": {"build": "next build"}, "dependencies": {"next": "15"}}"#,
    )]);
    assert_eq!(start(&p), "node_modules/.bin/next start");
    assert_eq!((p.port, guessed(&p, "port")), (Some(3000), false));
    assert_eq!(p.health_path.as_deref(), Some("/"));
    let p = plan(&[(
        "package.json",
        r#"{"scripts": {"build": "next build", "start": "next start -p 4000"}, "dependencies": {"next": "15"}}"#,
    )]);
    assert_eq!(start(&p), "node_modules/.bin/next start -p 4000");
    assert_eq!(p.port, Some(4000));
}

#[test]
fn next_without_a_build_script_has_no_start_command() {
    let p = plan(&[("package.json", r#"{"dependencies": {"next": "15"}}"#)]);
    assert!(p.start.is_empty());
    assert!(
        p.notes[0].contains("next serves the output of a build"),
        "{:?}",
        p.notes
    );
}

#[test]
fn vite_spa_is_served_by_vite_preview_on_4173() {
    let p = plan(&[
        (
            "package.json",
            r#"{"scripts": {"build": "vite build --outDir out"}, "devDependencies": {"vite": "6"}}"#,
        ),
        ("index.html", "<html></html>"),
    ]);
    assert_eq!(p.framework.as_deref(), Some("vite"));
    assert_eq!(
        start(&p),
        "node_modules/.bin/vite preview --host 0.0.0.0 --port 4173 --strictPort --outDir out"
    );
    assert_eq!((p.port, guessed(&p, "port")), (Some(4173), false));
}

#[test]
fn nest_runs_its_build_output_on_its_port() {
    let p = plan(&[
        (
            "package.json",
            r#"{"scripts": {"build": "nest build"}, "dependencies": {"@nestjs/core": "10"}}"#,
        ),
        ("src/main.ts", "await app.listen(process.env.PORT ?? 3100);"),
    ]);
    assert_eq!(p.framework.as_deref(), Some("nest"));
    assert_eq!(start(&p), "node dist/main.js");
    assert_eq!(p.port, Some(3100));
    let p = plan(&[
        (
            "package.json",
            r#"{"scripts": {"build": "nest build"}, "dependencies": {"@nestjs/core": "10"}}"#,
        ),
        ("src/main.ts", "await app.listen(process.env.PORT);"),
    ]);
    assert_eq!(
        (p.port, guessed(&p, "port")),
        (Some(3000), false),
        "Nest's default"
    );
}

#[test]
fn remix_and_react_router_serve_their_server_build() {
    let p = plan(&[
        (
            "package.json",
            r#"{"scripts": {"build": "remix vite:build"}, "dependencies": {"@remix-run/serve": "2", "@remix-run/node": "2"}}"#,
        ),
        ("vite.config.ts", ""),
    ]);
    assert_eq!(p.framework.as_deref(), Some("remix"));
    assert_eq!(
        start(&p),
        "node_modules/.bin/remix-serve build/server/index.js"
    );
    assert_eq!(p.port, Some(3000));
    let p = plan(&[(
        "package.json",
        r#"{"scripts": {"build": "react-router build", "start": "react-router-serve ./build/server/index.js"}, "dependencies": {"@react-router/serve": "7"}}"#,
    )]);
    assert_eq!(p.framework.as_deref(), Some("react-router"));
    assert_eq!(
        start(&p),
        "node_modules/.bin/react-router-serve ./build/server/index.js"
    );
}

#[test]
fn sveltekit_needs_the_node_adapter() {
    let with = plan(&[(
        "package.json",
        r#"{"scripts": {"build": "vite build"}, "devDependencies": {"@sveltejs/kit": "2", "@sveltejs/adapter-node": "5", "vite": "6"}}"#,
    )]);
    assert_eq!(start(&with), "node build/index.js");
    let without = plan(&[(
        "package.json",
        r#"{"scripts": {"build": "vite build"}, "devDependencies": {"@sveltejs/kit": "2", "vite": "6"}}"#,
    )]);
    assert!(without.start.is_empty());
    assert!(
        without.notes[0].contains("adapter-node"),
        "{:?}",
        without.notes
    );
}

#[test]
fn bun_runs_scripts_and_typescript_itself() {
    let p = plan(&[
        (
            "package.json",
            r#"{"scripts": {"start": "bun index.ts", "test": "bun test"}}"#,
        ),
        ("bun.lockb", ""),
        ("index.ts", ""),
    ]);
    assert_eq!(
        (p.package_manager.as_str(), start(&p).as_str()),
        ("bun", "bun run start")
    );
    assert_eq!(
        p.test,
        Some(vec!["bun".into(), "run".into(), "test".into()])
    );
    let p = plan(&[("package.json", "{}"), ("bun.lock", ""), ("index.ts", "")]);
    assert_eq!(start(&p), "bun index.ts");
}

#[test]
fn a_workspace_root_without_start_is_not_a_service() {
    let dir = tempfile::tempdir().unwrap();
    let w = |p: &str, t: &str| {
        let p = dir.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, t).unwrap();
    };
    w(
        "package.json",
        r#"{"workspaces": ["apps/*", "packages/*"]}"#,
    );
    w(
        "apps/web/package.json",
        r#"{"scripts": {"start": "node server.js"}}"#,
    );
    w("apps/web/server.js", "");
    w("packages/ui/package.json", r#"{"main": "index.tsx"}"#);
    let root = detect_folder(dir.path()).unwrap();
    assert!(root.start.is_empty());
    assert_eq!(root.members, vec!["apps/web", "packages/ui"]);
    let found = slipway_import::detect::discover(dir.path());
    let paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, vec!["apps/web"], "libraries start nothing");
}

#[test]
fn a_procfile_web_command_is_the_start_command() {
    let p = plan(&[
        ("package.json", "{}"),
        (
            "Procfile",
            "web: node worker/web.js --port 5050\nworker: node worker/jobs.js\n",
        ),
        ("worker/web.js", ""),
    ]);
    assert_eq!(start(&p), "node worker/web.js --port 5050");
    assert_eq!(p.port, Some(5050));
}

// --- Python ---------------------------------------------------------------------

#[test]
fn django_runs_the_project_named_by_wsgi_application() {
    let files = [
        ("manage.py", ""),
        ("requirements.txt", "Django==5.0\ngunicorn==22\n"),
        (
            "site_conf/settings.py",
            "WSGI_APPLICATION = 'site_conf.wsgi.application'\n",
        ),
        ("site_conf/wsgi.py", ""),
        ("site_conf/urls.py", "path('healthz/', health)"),
    ];
    let p = plan(&files);
    assert_eq!(p.framework.as_deref(), Some("django"));
    assert_eq!(
        start(&p),
        "gunicorn site_conf.wsgi:application --bind 0.0.0.0:8000 --workers 2"
    );
    assert_eq!(
        (p.port, p.health_path.as_deref()),
        (Some(8000), Some("/healthz/"))
    );
    let p = plan(&[
        files[0],
        ("requirements.txt", "Django==5.0\n"),
        files[2],
        files[3],
    ]);
    assert_eq!(
        start(&p),
        "python3 manage.py runserver 0.0.0.0:8000 --noreload"
    );
    assert!(
        p.notes.iter().any(|n| n.contains("add gunicorn")),
        "{:?}",
        p.notes
    );
}

#[test]
fn fastapi_runs_the_app_object_under_uvicorn_on_8000() {
    let p = plan(&[
        ("requirements.txt", "fastapi\nuvicorn\n"),
        (
            "api/main.py",
            "from fastapi import FastAPI\nservice = FastAPI()\n@service.get('/health')\n",
        ),
    ]);
    assert_eq!(p.framework.as_deref(), Some("fastapi"));
    assert_eq!(
        start(&p),
        "uvicorn api.main:service --host 0.0.0.0 --port 8000"
    );
    assert_eq!(
        (p.port, p.health_path.as_deref()),
        (Some(8000), Some("/health"))
    );
}

#[test]
fn flask_uses_gunicorn_when_present_else_flask_run_on_5000() {
    let p = plan(&[
        ("requirements.txt", "flask\n"),
        ("app.py", "app = Flask(__name__)\n"),
    ]);
    assert_eq!(
        start(&p),
        "flask --app app:app run --host 0.0.0.0 --port 5000"
    );
    assert_eq!(p.port, Some(5000));
    let p = plan(&[
        ("requirements.txt", "flask\ngunicorn\n"),
        ("app.py", "app = Flask(__name__)\n"),
    ]);
    assert_eq!(
        start(&p),
        "gunicorn --bind 0.0.0.0:8000 --workers 2 app:app"
    );
    assert_eq!(p.port, Some(8000));
}

#[test]
fn a_framework_without_its_app_object_is_not_assumed() {
    let p = plan(&[
        (
            "pyproject.toml",
            "[project]\nname = \"x\"\ndependencies = [\"flask\"]\n",
        ),
        ("main.py", "print('hello')\n"),
    ]);
    assert_eq!(p.framework, None);
    assert_eq!(start(&p), "python3 main.py");
    assert!(
        p.notes.iter().any(|n| n.contains("no `Flask(` app object")),
        "{:?}",
        p.notes
    );
}

#[test]
fn a_package_with_dunder_main_runs_as_a_module() {
    let p = plan(&[
        ("pyproject.toml", "[project]\nname = \"tool-x\"\n"),
        ("tool-x/__main__.py", ""),
    ]);
    assert_eq!(start(&p), "python3 -m tool-x");
}

#[test]
fn python_without_an_entry_has_no_start_command() {
    let p = plan(&[("requirements.txt", "requests\n")]);
    assert!(p.start.is_empty());
    assert!(
        p.notes.last().unwrap().contains("set `command:`"),
        "{:?}",
        p.notes
    );
}

#[test]
fn python_versions_from_runtime_files() {
    let p = plan(&[("main.py", ""), ("runtime.txt", "python-2.7\n")]);
    assert_eq!(p.version, "2.7");
    let p = plan(&[
        ("main.py", ""),
        (".tool-versions", "python 3.12.3\npoetry 1.8\n"),
    ]);
    assert_eq!(p.version, "3.12");
    let p = plan(&[
        (
            "Pipfile",
            "[packages]\nrequests = \"*\"\n[requires]\npython_version = \"3.11\"\n",
        ),
        ("main.py", ""),
    ]);
    assert_eq!(
        (p.version.as_str(), p.package_manager.as_str()),
        ("3.11", "pipenv")
    );
}

// --- Java -----------------------------------------------------------------------

#[test]
fn spring_port_from_properties_with_an_env_default() {
    let p = plan(&[
        ("pom.xml", "<project><artifactId>a</artifactId><version>1</version><parent><artifactId>spring-boot-starter-parent</artifactId></parent></project>"),
        ("src/main/resources/application.properties", "server.port=${PORT:5000}\n"),
    ]);
    assert_eq!((p.port, guessed(&p, "port")), (Some(5000), false));
    let p = plan(&[(
        "pom.xml",
        "<project><parent><artifactId>spring-boot-starter-parent</artifactId></parent></project>",
    )]);
    assert_eq!(
        (p.port, guessed(&p, "port")),
        (Some(8080), false),
        "Spring's default"
    );
}

#[test]
fn gradle_groovy_and_kotlin_dsl_are_detected() {
    let groovy = plan(&[
        ("build.gradle", "plugins { id 'java'\n id 'org.springframework.boot' version '3.1.3' }\nversion = '0.0.1'\njava {\n  sourceCompatibility = '17'\n}\n"),
        ("settings.gradle", "rootProject.name = 'shop'\n"),
        ("src/main/resources/application.yml", "server:\n  port: 8085\n"),
    ]);
    assert_eq!(groovy.package_manager, "gradle");
    assert_eq!(groovy.framework.as_deref(), Some("spring-boot"));
    assert_eq!((groovy.version.as_str(), groovy.port), ("17", Some(8085)));
    assert_eq!(groovy.entry.as_deref(), Some("shop-0.0.1.jar"));
    let kotlin = plan(&[
        ("build.gradle.kts", "plugins { application }\njava { toolchain { languageVersion = JavaLanguageVersion.of(21) } }\n"),
        ("settings.gradle.kts", "rootProject.name = \"cli\"\n"),
    ]);
    assert_eq!(
        (kotlin.package_manager.as_str(), kotlin.version.as_str()),
        ("gradle", "21")
    );
    assert!(
        kotlin.notes.iter().any(|n| n.contains("Kotlin DSL")),
        "{:?}",
        kotlin.notes
    );
    assert!(
        kotlin.notes.iter().any(|n| n.contains("Main-Class")),
        "{:?}",
        kotlin.notes
    );
}

#[test]
fn the_gradle_wrapper_is_used_only_when_complete() {
    let files = [
        ("build.gradle", ""),
        ("gradlew", "#!/bin/sh"),
        ("gradle/wrapper/gradle-wrapper.properties", ""),
    ];
    let p = plan(&files);
    assert!(
        !p.manifests.iter().any(|m| m == "gradlew"),
        "{:?}",
        p.manifests
    );
    assert!(p.notes.iter().any(|n| n.contains("gradle-wrapper.jar")));
    let mut all = files.to_vec();
    all.push(("gradle/wrapper/gradle-wrapper.jar", "jar"));
    let p = plan(&all);
    assert!(
        p.manifests.iter().any(|m| m == "gradlew"),
        "{:?}",
        p.manifests
    );
    assert_eq!(p.dev_start.as_ref().unwrap()[0], "./gradlew");
}

// --- Rust -----------------------------------------------------------------------

#[test]
fn rocket_listens_on_8000_or_its_rocket_toml_port() {
    let files = [
        (
            "Cargo.toml",
            "[package]\nname = \"r\"\n\n[dependencies]\nrocket = \"0.5\"\n",
        ),
        ("src/main.rs", ""),
    ];
    let p = plan(&files);
    assert_eq!(p.framework.as_deref(), Some("rocket"));
    assert_eq!((p.port, guessed(&p, "port")), (Some(8000), false));
    let mut with_toml = files.to_vec();
    with_toml.push((
        "Rocket.toml",
        "[default]\nport = 8001\n[release]\nport = 8002\n",
    ));
    assert_eq!(plan(&with_toml).port, Some(8002), "release profile first");
}

#[test]
fn axum_and_actix_ports_come_from_the_bind_address() {
    let p = plan(&[
        (
            "Cargo.toml",
            "[package]\nname = \"a\"\n\n[dependencies]\naxum = \"0.8\"\n",
        ),
        (
            "src/main.rs",
            "let l = tokio::net::TcpListener::bind(\"0.0.0.0:3000\").await?;",
        ),
    ]);
    assert_eq!((p.framework.as_deref(), p.port), (Some("axum"), Some(3000)));
    let p = plan(&[
        (
            "Cargo.toml",
            "[package]\nname = \"b\"\n\n[dependencies]\nactix-web = \"4\"\n",
        ),
        (
            "src/main.rs",
            "HttpServer::new(app).bind((\"0.0.0.0\", 8088))?",
        ),
    ]);
    assert_eq!(p.framework.as_deref(), Some("actix-web"));
    assert_eq!(
        (p.port, guessed(&p, "port")),
        (Some(8088), false),
        "a tuple address"
    );
}

#[test]
fn default_run_picks_the_binary() {
    let p = plan(&[
        (
            "Cargo.toml",
            "[package]\nname = \"m\"\ndefault-run = \"api\"\n",
        ),
        ("src/main.rs", ""),
        ("src/bin/api.rs", ""),
        ("src/bin/worker.rs", ""),
    ]);
    assert_eq!(
        (p.entry.as_deref(), guessed(&p, "entry")),
        (Some("api"), false)
    );
}

// --- Go -------------------------------------------------------------------------

#[test]
fn gin_defaults_to_8080_and_literal_addresses_win() {
    let p = plan(&[
        (
            "go.mod",
            "module example.com/x\n\ngo 1.23\n\nrequire github.com/gin-gonic/gin v1.10.0\n",
        ),
        (
            "main.go",
            "package main\n\nfunc main() { r := gin.Default(); r.Run() }\n",
        ),
    ]);
    assert_eq!(
        (p.framework.as_deref(), p.port, guessed(&p, "port")),
        (Some("gin"), Some(8080), false)
    );
    let p = plan(&[
        (
            "go.mod",
            "module example.com/x\n\ngo 1.23\n\nrequire github.com/gin-gonic/gin v1.10.0\n",
        ),
        (
            "main.go",
            "package main\n\nfunc main() { r := gin.Default(); r.Run(\":9090\") }\n",
        ),
    ]);
    assert_eq!(p.port, Some(9090));
}

#[test]
fn echo_port_comes_from_start() {
    let p = plan(&[
        (
            "go.mod",
            "module example.com/e\n\ngo 1.22\n\nrequire github.com/labstack/echo/v4 v4.12.0\n",
        ),
        (
            "main.go",
            "package main\n\nfunc main() { e := echo.New(); e.Logger.Fatal(e.Start(\":1323\")) }\n",
        ),
    ]);
    assert_eq!((p.framework.as_deref(), p.port), (Some("echo"), Some(1323)));
}

#[test]
fn go_builds_the_root_package_first_and_main_go_without_a_module() {
    let p = plan(&[
        ("go.mod", "module example.com/svc\n\ngo 1.23\n"),
        ("main.go", "package main\n"),
        ("cmd/tool/main.go", "package main\n"),
    ]);
    assert_eq!(p.entry.as_deref(), Some("."));
    let p = plan(&[("main.go", "package main\n")]);
    assert_eq!(p.entry.as_deref(), Some("main.go"));
    assert!(p.manifests.is_empty());
}
