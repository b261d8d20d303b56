//! Meaning preserved (issue 11): every awesome-compose sample goes through
//! `slipway generate`, and its compose output is compared with its input, service by
//! service: image, command and entrypoint, environment (keys and values; secrets as
//! references), every published port, health check test and timing, volumes,
//! `depends_on` conditions and networks. Every difference must be listed in the
//! command's report at the input's file:line; a difference not reported fails.
//!
//! The input is read here on its own terms (not through the importer), so the test
//! is an oracle for the importer and the emitter together.

use slipway_diagnostics::{Diagnostic, SourceFile};
use slipway_engine::{generate, GenerateOptions, GenerateReport};
use slipway_import::compose::interpolate;
use slipway_import::yaml::{self, Budget, Node};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn corpus() -> Option<Vec<PathBuf>> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/awesome-compose");
    let entries = std::fs::read_dir(&dir).ok()?;
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| {
            let d = e.ok()?.path();
            ["compose.yaml", "compose.yml"]
                .iter()
                .map(|n| d.join(n))
                .find(|p| p.is_file())
        })
        .collect();
    out.sort();
    Some(out)
}

/// A field of one service with the input lines it spans.
#[derive(Debug, Clone, Default)]
struct Field<T> {
    value: T,
    lines: (usize, usize),
}

#[derive(Debug, Default)]
struct Svc {
    line: usize,
    image: Option<Field<String>>,
    build: bool,
    command: Option<Field<Vec<String>>>,
    entrypoint: Option<Field<Vec<String>>>,
    env: BTreeMap<String, Field<Option<String>>>,
    ports: Vec<Field<Port>>,
    ports_key: (usize, usize),
    health: Option<Field<HealthView>>,
    volumes: Vec<Field<(String, bool)>>,
    depends: Option<Field<BTreeMap<String, String>>>,
    networks: Field<BTreeSet<String>>,
}

type Port = (Option<String>, u16, u16, bool);
/// A health check as argv and timing (interval, timeout, retries, start period).
type HealthView = Option<(Vec<String>, [u64; 4])>;

struct Reader<'a> {
    file: &'a SourceFile,
}

impl Reader<'_> {
    fn lines(&self, k: &Node, v: &Node) -> (usize, usize) {
        (
            self.file.line_col(k.span.start).0,
            self.file.line_col(v.span.end.max(k.span.start)).0,
        )
    }
    fn text(n: &Node) -> Option<String> {
        let raw = n.as_scalar()?;
        Some(interpolate(raw, &BTreeMap::new()).map_or_else(|_| raw.to_string(), |r| r.0))
    }
}

fn argv(n: &Node) -> Vec<String> {
    n.as_seq().map_or_else(
        || {
            Reader::text(n)
                .map(|s| slipway_import::compose::shell_words(&s))
                .unwrap_or_default()
        },
        |items| items.iter().filter_map(Reader::text).collect(),
    )
}

fn duration_ms(s: &str) -> u64 {
    let mut total = 0.0;
    let mut num = String::new();
    let mut unit = String::new();
    let flush = |num: &mut String, unit: &mut String, total: &mut f64| {
        let n: f64 = num.parse().unwrap_or(0.0);
        *total += n * match unit.as_str() {
            "h" => 3_600_000.0,
            "m" => 60_000.0,
            "ms" => 1.0,
            _ => 1000.0,
        };
        num.clear();
        unit.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() || c == '.' {
            if !unit.is_empty() {
                flush(&mut num, &mut unit, &mut total);
            }
            num.push(c);
        } else {
            unit.push(c);
        }
    }
    flush(&mut num, &mut unit, &mut total);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ms = total.round() as u64;
    ms
}

fn short_port(s: &str) -> Vec<Port> {
    let (s, proto) = s.split_once('/').unwrap_or((s, "tcp"));
    let udp = proto == "udp";
    let parts: Vec<&str> = s.rsplitn(3, ':').collect();
    let (container, host, ip) = match parts.as_slice() {
        [c] => (*c, None, None),
        [c, h] => (*c, Some(*h), None),
        [c, h, ip] => (*c, Some(*h), Some(ip.trim_matches(['[', ']']).to_string())),
        _ => return Vec::new(),
    };
    let range = |r: &str| -> Vec<u16> {
        let (a, b) = r.split_once('-').unwrap_or((r, r));
        match (a.parse::<u16>(), b.parse::<u16>()) {
            (Ok(a), Ok(b)) => (a..=b).collect(),
            _ => Vec::new(),
        }
    };
    let hosts = host
        .filter(|h| !h.is_empty())
        .map(range)
        .unwrap_or_default();
    range(container)
        .into_iter()
        .enumerate()
        .map(|(i, c)| (ip.clone(), hosts.get(i).copied().unwrap_or(c), c, udp))
        .collect()
}

/// The input's services as Compose reads them.
fn read_input(file: &SourceFile) -> BTreeMap<String, Svc> {
    let r = Reader { file };
    let docs = yaml::parse(file, Budget::default()).expect("the corpus parses");
    let mut out = BTreeMap::new();
    for (sk, body) in docs[0]
        .get("services")
        .and_then(Node::as_map)
        .unwrap_or(&[])
    {
        let name = sk.as_scalar().unwrap().to_string();
        let mut s = Svc {
            line: file.line_col(sk.span.start).0,
            networks: Field {
                value: BTreeSet::from(["default".to_string()]),
                lines: (0, 0),
            },
            ..Svc::default()
        };
        for (k, v) in body.as_map().unwrap_or(&[]) {
            let lines = r.lines(k, v);
            match k.as_scalar().unwrap_or("") {
                "image" => s.image = Reader::text(v).map(|value| Field { value, lines }),
                "build" => s.build = true,
                "command" => {
                    s.command = Some(Field {
                        value: argv(v),
                        lines,
                    });
                }
                "entrypoint" => {
                    s.entrypoint = Some(Field {
                        value: argv(v),
                        lines,
                    });
                }
                "environment" => read_env(&r, v, &mut s),
                "ports" => {
                    s.ports_key = lines;
                    for item in v.as_seq().unwrap_or(&[]) {
                        let lines = r.lines(item, item);
                        let ports = if item.as_map().is_some() {
                            let t = item
                                .get("target")
                                .and_then(Reader::text)
                                .and_then(|t| t.parse().ok())
                                .unwrap_or(0);
                            let h = item
                                .get("published")
                                .and_then(Reader::text)
                                .and_then(|t| t.parse().ok())
                                .unwrap_or(t);
                            let ip = item.get("host_ip").and_then(Reader::text);
                            let udp = item.get("protocol").and_then(Reader::text).as_deref()
                                == Some("udp");
                            vec![(ip, h, t, udp)]
                        } else {
                            short_port(&Reader::text(item).unwrap_or_default())
                        };
                        s.ports
                            .extend(ports.into_iter().map(|value| Field { value, lines }));
                    }
                }
                "healthcheck" => {
                    let test = v.get("test").map(|t| {
                        let words = argv(t);
                        match (t.as_seq().is_some(), words.first().map(String::as_str)) {
                            (true, Some("CMD")) => words[1..].to_vec(),
                            (true, Some("CMD-SHELL")) => {
                                vec!["sh".into(), "-c".into(), words[1..].join(" ")]
                            }
                            (true, _) => words,
                            (false, _) => vec![
                                "sh".into(),
                                "-c".into(),
                                Reader::text(t).unwrap_or_default(),
                            ],
                        }
                    });
                    let t = |key: &str, default: u64| {
                        v.get(key)
                            .and_then(Reader::text)
                            .map_or(default, |d| duration_ms(&d))
                    };
                    let retries = v
                        .get("retries")
                        .and_then(Reader::text)
                        .and_then(|r| r.parse().ok())
                        .unwrap_or(3);
                    let disabled = v.get("disable").and_then(Node::as_bool) == Some(true)
                        || test
                            .as_ref()
                            .is_some_and(|t| t.first().map(String::as_str) == Some("NONE"));
                    let value = test.filter(|_| !disabled).map(|test| {
                        (
                            test,
                            [
                                t("interval", 30_000),
                                t("timeout", 30_000),
                                retries,
                                t("start_period", 0),
                            ],
                        )
                    });
                    s.health = Some(Field { value, lines });
                }
                "volumes" => {
                    for item in v.as_seq().unwrap_or(&[]) {
                        let lines = r.lines(item, item);
                        let (target, ro) = if item.as_map().is_some() {
                            (
                                item.get("target")
                                    .and_then(Reader::text)
                                    .unwrap_or_default(),
                                item.get("read_only").and_then(Node::as_bool) == Some(true),
                            )
                        } else {
                            let t = Reader::text(item).unwrap_or_default();
                            let parts: Vec<&str> = t.split(':').collect();
                            match parts.as_slice() {
                                [t] | [_, t] => ((*t).to_string(), false),
                                [_, t, m, ..] => {
                                    ((*t).to_string(), m.split(',').any(|m| m == "ro"))
                                }
                                [] => (String::new(), false),
                            }
                        };
                        s.volumes.push(Field {
                            value: (target, ro),
                            lines,
                        });
                    }
                }
                "tmpfs" => {
                    let items: Vec<Node> =
                        v.as_seq().map_or_else(|| vec![v.clone()], <[Node]>::to_vec);
                    for item in &items {
                        let t = Reader::text(item).unwrap_or_default();
                        s.volumes.push(Field {
                            value: (t.split(':').next().unwrap_or("").to_string(), false),
                            lines: r.lines(item, item),
                        });
                    }
                }
                "depends_on" => {
                    let mut deps = BTreeMap::new();
                    if let Some(items) = v.as_seq() {
                        for i in items {
                            deps.insert(
                                Reader::text(i).unwrap_or_default(),
                                "service_started".to_string(),
                            );
                        }
                    }
                    for (dk, dv) in v.as_map().unwrap_or(&[]) {
                        let c = dv
                            .get("condition")
                            .and_then(Reader::text)
                            .unwrap_or_else(|| "service_started".into());
                        deps.insert(dk.as_scalar().unwrap_or("").to_string(), c);
                    }
                    s.depends = Some(Field { value: deps, lines });
                }
                "networks" => {
                    let names: BTreeSet<String> = v.as_seq().map_or_else(
                        || {
                            v.as_map()
                                .unwrap_or(&[])
                                .iter()
                                .filter_map(|(k, _)| k.as_scalar().map(ToString::to_string))
                                .collect()
                        },
                        |i| i.iter().filter_map(Reader::text).collect(),
                    );
                    s.networks = Field {
                        value: names,
                        lines,
                    };
                }
                _ => {}
            }
        }
        out.insert(name, s);
    }
    out
}

fn read_env(r: &Reader<'_>, v: &Node, s: &mut Svc) {
    if let Some(map) = v.as_map() {
        for (k, val) in map {
            let value = if val.is_null() {
                None
            } else {
                Reader::text(val)
            };
            s.env.insert(
                k.as_scalar().unwrap_or("").to_string(),
                Field {
                    value,
                    lines: r.lines(k, val),
                },
            );
        }
    }
    for item in v.as_seq().unwrap_or(&[]) {
        let text = Reader::text(item).unwrap_or_default();
        let (k, value) = match text.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (text, None),
        };
        s.env.insert(
            k,
            Field {
                value,
                lines: r.lines(item, item),
            },
        );
    }
}

/// What the generated compose files say about one service.
#[derive(Debug, Default)]
struct Out {
    image: String,
    command: Option<Vec<String>>,
    entrypoint: Option<Vec<String>>,
    env: BTreeMap<String, String>,
    ports: BTreeSet<Port>,
    health: HealthView,
    volumes: BTreeSet<(String, bool)>,
    depends: BTreeMap<String, String>,
    networks: BTreeSet<String>,
}

fn unescape(s: &str) -> String {
    s.replace("$$", "$")
}

fn out_text(n: &Node) -> Option<String> {
    n.as_scalar().map(unescape)
}

fn out_list(n: &Node) -> Vec<String> {
    n.as_seq()
        .unwrap_or(&[])
        .iter()
        .filter_map(out_text)
        .collect()
}

fn read_output(dir: &Path) -> BTreeMap<String, Out> {
    let (text, list) = (out_text, out_list);
    let load = |p: &str| {
        let f = SourceFile::new(p, std::fs::read_to_string(dir.join(p)).unwrap());
        yaml::parse(&f, Budget::default()).unwrap().remove(0)
    };
    let base = load("compose/docker-compose.yaml");
    let prod = load("compose/docker-compose.prod.yaml");
    let mut out = BTreeMap::new();
    for (k, s) in base.get("services").and_then(Node::as_map).unwrap_or(&[]) {
        let name = k.as_scalar().unwrap().to_string();
        let mut o = Out {
            image: s.get("image").and_then(text).unwrap_or_default(),
            command: s.get("command").map(list),
            entrypoint: s.get("entrypoint").map(list),
            networks: s.get("networks").map_or_else(
                || BTreeSet::from(["default".to_string()]),
                |n| list(n).into_iter().collect(),
            ),
            ..Out::default()
        };
        for env in [
            s.get("environment"),
            prod.get("services")
                .and_then(|p| p.get(&name))
                .and_then(|p| p.get("environment")),
        ]
        .into_iter()
        .flatten()
        {
            for (ek, ev) in env.as_map().unwrap_or(&[]) {
                o.env.insert(
                    ek.as_scalar().unwrap().to_string(),
                    text(ev).unwrap_or_default(),
                );
            }
        }
        if let Some(ports) = prod
            .get("services")
            .and_then(|p| p.get(&name))
            .and_then(|p| p.get("ports"))
        {
            o.ports = list(ports).iter().flat_map(|p| short_port(p)).collect();
        }
        if let Some(h) = s.get("healthcheck") {
            let argv = list(h.get("test").unwrap());
            let t = |k: &str| h.get(k).and_then(text).map_or(0, |d| duration_ms(&d));
            let retries = h
                .get("retries")
                .and_then(text)
                .and_then(|r| r.parse().ok())
                .unwrap_or(0);
            o.health = Some((
                argv[1..].to_vec(),
                [t("interval"), t("timeout"), retries, t("start_period")],
            ));
        }
        for v in s.get("volumes").map(list).unwrap_or_default() {
            let parts: Vec<&str> = v.split(':').collect();
            o.volumes.insert((
                parts.get(1).unwrap_or(&"").to_string(),
                parts.get(2) == Some(&"ro"),
            ));
        }
        for t in s.get("tmpfs").map(list).unwrap_or_default() {
            o.volumes.insert((t, false));
        }
        for (dk, dv) in s.get("depends_on").and_then(Node::as_map).unwrap_or(&[]) {
            o.depends.insert(
                dk.as_scalar().unwrap().to_string(),
                dv.get("condition").and_then(text).unwrap_or_default(),
            );
        }
        out.insert(name, o);
    }
    out
}

/// A place the report shows: file, line (when it has one), code and message. A
/// diagnostic shows its primary place and each labelled one.
struct Shown {
    file: String,
    line: Option<usize>,
    message: String,
}

fn shown(report: &GenerateReport, input: &str) -> Vec<Shown> {
    let line_of = |file: &str, s: slipway_diagnostics::Span| {
        Some(report.sources.get(file)?.line_col(s.start).0)
    };
    let mut out = Vec::new();
    for d in &report.diagnostics {
        let d: &Diagnostic = d;
        let file = d.file.clone().unwrap_or_default();
        let message = format!("{} {}", d.rule_id, d.message);
        let mut line = d.span.and_then(|s| line_of(&file, s));
        // Emitter notes name the service's place in their message: `(compose.yaml:12:3)`.
        if line.is_none() {
            line = d
                .message
                .split(&format!(
                    "({}:",
                    Path::new(input).file_name().unwrap().to_string_lossy()
                ))
                .nth(1)
                .and_then(|r| r.split(':').next()?.parse().ok());
        }
        for l in &d.labels {
            out.push(Shown {
                file: l.file.clone(),
                line: line_of(&l.file, l.span),
                message: message.clone(),
            });
        }
        out.push(Shown {
            file,
            line,
            message,
        });
    }
    out
}

struct Check<'a> {
    input: &'a str,
    shown: &'a [Shown],
    misses: Vec<String>,
}

impl Check<'_> {
    /// A difference must be reported on one of `lines` of the input.
    fn expect(&mut self, service: &str, what: &str, lines: (usize, usize)) {
        let ok = self.shown.iter().any(|d| {
            (d.file == self.input
                || Path::new(&d.file).file_name() == Path::new(self.input).file_name())
                && d.line
                    .is_some_and(|l| l >= lines.0 && l <= lines.1.max(lines.0))
        });
        if !ok {
            self.misses.push(format!(
                "{}:{}: service `{service}`: {what} — not in the report",
                self.input, lines.0
            ));
        }
    }

    /// An addition must be named, with its service, by a message of the report.
    fn expect_named(&mut self, service: &str, what: &str, name: &str) {
        let ok = self
            .shown
            .iter()
            .any(|d| d.message.contains(&format!("`{service}`")) && d.message.contains(name));
        if !ok {
            self.misses.push(format!(
                "{}: service `{service}`: {what} — not in the report",
                self.input
            ));
        }
    }
}

fn compare(name: &str, input: &Svc, output: &Out, check: &mut Check<'_>) {
    if let (Some(img), false) = (&input.image, input.build) {
        if img.value != output.image {
            check.expect(
                name,
                &format!("image `{}` became `{}`", img.value, output.image),
                img.lines,
            );
        }
    }
    if let (Some(_), true) = (&input.image, input.build) {
        check.expect(
            name,
            "the image of a built service is renamed",
            input.image.as_ref().unwrap().lines,
        );
    }
    for (field, want, got) in [
        ("command", &input.command, &output.command),
        ("entrypoint", &input.entrypoint, &output.entrypoint),
    ] {
        match want {
            Some(w) if Some(&w.value) != got.as_ref() => check.expect(
                name,
                &format!("{field} {:?} became {got:?}", w.value),
                w.lines,
            ),
            _ => {}
        }
    }
    for (k, f) in &input.env {
        match (&f.value, output.env.get(k)) {
            (Some(v), Some(got)) if v == got => {}
            (want, got) => check.expect(
                name,
                &format!("environment `{k}` {want:?} became {got:?}"),
                f.lines,
            ),
        }
    }
    for k in output.env.keys().filter(|k| !input.env.contains_key(*k)) {
        check.expect_named(name, &format!("environment `{k}` added"), k);
    }
    let ports: BTreeSet<Port> = input.ports.iter().map(|p| p.value.clone()).collect();
    for p in &input.ports {
        let (ip, host, target, udp) = p.value.clone();
        if output.ports.contains(&p.value) {
            continue;
        }
        if ip.is_none()
            && output
                .ports
                .contains(&(Some("127.0.0.1".into()), host, target, udp))
        {
            check.expect(
                name,
                &format!("port {host}:{target} published on 127.0.0.1 only"),
                input.ports_key,
            );
        } else {
            check.expect(name, &format!("port {:?} not published", p.value), p.lines);
        }
    }
    for p in &output.ports {
        let same = ports.iter().any(|q| q.1 == p.1 && q.2 == p.2 && q.3 == p.3);
        if !same {
            check.expect(name, &format!("port {p:?} added"), (input.line, input.line));
        }
    }
    match (&input.health, &output.health) {
        (Some(f), got) if f.value.as_ref() != got.as_ref() => check.expect(
            name,
            &format!("healthcheck {:?} became {got:?}", f.value),
            f.lines,
        ),
        (None, Some(got)) => check.expect(
            name,
            &format!("healthcheck {got:?} added"),
            (input.line, input.line),
        ),
        _ => {}
    }
    for v in &input.volumes {
        if !output.volumes.contains(&v.value) {
            check.expect(name, &format!("volume {:?} not mounted", v.value), v.lines);
        }
    }
    let deps = input
        .depends
        .as_ref()
        .map(|d| d.value.clone())
        .unwrap_or_default();
    if deps != output.depends {
        let lines = input
            .depends
            .as_ref()
            .map_or((input.line, input.line), |d| d.lines);
        check.expect(
            name,
            &format!("depends_on {deps:?} became {:?}", output.depends),
            lines,
        );
    }
    if input.networks.value != output.networks {
        let lines = if input.networks.lines.0 == 0 {
            (input.line, input.line)
        } else {
            input.networks.lines
        };
        check.expect(
            name,
            &format!(
                "networks {:?} became {:?}",
                input.networks.value, output.networks
            ),
            lines,
        );
    }
}

#[test]
fn every_difference_between_input_and_output_is_reported() {
    let Some(samples) = corpus() else {
        eprintln!("skipped: ../shared/corpus/awesome-compose is not here (a user's clone has no ../shared)");
        return;
    };
    let mut misses = Vec::new();
    let mut compared = 0;
    for path in &samples {
        let input = path.to_string_lossy().into_owned();
        let file = SourceFile::new(input.clone(), std::fs::read_to_string(path).unwrap());
        let out = tempfile::tempdir().unwrap();
        let report = generate(&GenerateOptions {
            spec: path.clone(),
            out: Some(out.path().join("infra")),
            ..Default::default()
        })
        .unwrap();
        let shown = shown(&report, &input);
        let mut check = Check {
            input: &input,
            shown: &shown,
            misses: Vec::new(),
        };
        if report.has_errors() {
            // Nothing is written; the reason must be located in the input.
            let located = shown
                .iter()
                .any(|d| d.line.is_some() && d.message.starts_with("SPEC"));
            assert!(located, "{input}: refused without a located reason");
            continue;
        }
        let output = read_output(&out.path().join("infra"));
        for (name, svc) in read_input(&file) {
            let label = name.to_ascii_lowercase().replace('_', "-");
            match output.get(&label) {
                Some(o) => compare(&name, &svc, o, &mut check),
                None => check.expect_named(&name, "service left out", ""),
            }
        }
        compared += 1;
        misses.extend(check.misses);
    }
    assert!(compared >= 30, "only {compared} samples compared");
    assert!(
        misses.is_empty(),
        "{} unreported differences:\n{}",
        misses.len(),
        misses.join("\n")
    );
}
