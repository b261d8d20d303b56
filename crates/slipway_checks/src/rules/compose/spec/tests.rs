//! CMP001's description of the Compose format: accepted files, located problems.

use super::*;
use slipway_diagnostics::SourceFile;
use slipway_import::yaml::{parse, Budget};

fn check(text: &str) -> Vec<(String, String)> {
    let docs = parse(&SourceFile::new("compose.yaml", text), Budget::default()).unwrap();
    validate(&docs[0])
        .into_iter()
        .map(|p| (text[p.span.start..p.span.end].to_string(), p.message))
        .collect()
}

#[test]
fn current_keys_are_allowed() {
    let text = "x-base: &base\n  restart: always\nservices:\n  api:\n    <<: *base\n    image: a/b:1\n    develop: { watch: [{ action: sync, path: ./src, target: /app }] }\n    gpus: all\n    post_start: [{ command: [\"true\"] }]\n    mem_swappiness: 10\n  web:\n    extends: { service: api }\ninclude: [other.yaml]\n";
    assert_eq!(check(text), Vec::<(String, String)>::new());
}

#[test]
fn unknown_keys_are_located_with_a_suggestion() {
    let text = "services:\n  api:\n    image: a/b:1\n    restrat: always\n";
    let docs = parse(&SourceFile::new("compose.yaml", text), Budget::default()).unwrap();
    let problems = validate(&docs[0]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        &text[problems[0].span.start..problems[0].span.end],
        "restrat"
    );
    assert_eq!(
        problems[0].message,
        "unknown key `restrat` in `services.api`"
    );
    assert_eq!(problems[0].help.as_deref(), Some("did you mean `restart`?"));
}

#[test]
fn wrong_types_and_missing_keys_are_located() {
    let found = check("services:\n  api:\n    image: a/b:1\n    privileged: [yes]\n  b:\n    build: { dockerfile: D }\n    image: x\nvolumes:\n  v: { driver: [x] }\n");
    let want = [
        (
            "[yes]",
            "`services.api.privileged` must be a boolean or a string; found a list",
        ),
        ("[x]", "`volumes.v.driver` must be a string; found a list"),
    ];
    assert_eq!(found, want.map(|(a, m)| (a.to_string(), m.to_string())));
    let found = check("services:\n  api:\n    image: 12\n    extends: { file: x }\n    ports: [{ target: [80] }]\n");
    let want = [
        (
            "12",
            "`services.api.image` must be a string; found the number `12`",
        ),
        ("extends", "`services.api.extends` needs the key `service`"),
        (
            "[80]",
            "`services.api.ports[0].target` must be an integer or a string; found a list",
        ),
    ];
    assert_eq!(found, want.map(|(a, m)| (a.to_string(), m.to_string())));
}

#[test]
fn nested_structures_are_described() {
    let text = "services:\n  api:\n    image: a/b:1\n    x-note: kept\n    deploy: { x-a: 1, resources: { limits: { cpus: 0.5, memroy: 1g } } }\n    depends_on: { db: { restart: true } }\n    cgroup: hots\n    ports: [{ target: 80, x-p: 1 }]\n    cap_add: [NET_ADMIN, NET_ADMIN]\n  db:\n    image: postgres:16\nnetworks:\n  bad name: {}\n";
    let want = [
        (
            "memroy",
            "unknown key `memroy` in `services.api.deploy.resources.limits`",
        ),
        (
            "db",
            "`services.api.depends_on.db` needs the key `condition`",
        ),
        (
            "hots",
            "`services.api.cgroup` must be one of `host`, `private`; found `hots`",
        ),
        (
            "cap_add",
            "`services.api.cap_add` lists the same entry twice",
        ),
        (
            "bad name",
            "`bad name` is not an allowed name in `networks`",
        ),
    ];
    assert_eq!(
        check(text),
        want.map(|(a, m)| (a.to_string(), m.to_string()))
    );
}
