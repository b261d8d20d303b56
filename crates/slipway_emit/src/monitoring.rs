//! The `monitoring` target: Prometheus (scrape config, alert and recording rules,
//! and `promtool test rules` unit tests for every alert) and Alertmanager (routing
//! by priority, inhibition), derived from the model with no change to user code:
//! every service with a port is probed through the blackbox exporter (its HTTP
//! health path, else a TCP connect), so availability and latency exist for any app; PostgreSQL and Redis resources
//! are scraped through their exporters; the slipway agent through its `/metrics`.
//!
//! Thresholds are the operations seed's: a service with no successful probe for
//! 5 minutes pages (P1), a probe failure ratio over 5% or a p99 over 500 ms warns
//! (P2). Every alert carries `severity`, `priority`, `summary`, `description` and a
//! `runbook_url` into the generated `monitoring/ALERTS.md`.
//!
//! Files are JSON documents written through the `monitoring/config.yaml.j2`
//! template (deterministic YAML), then re-parsed before they are kept.

use crate::{validate, EmitRequest, Emitted, Templates};
use serde_json::{json, Value};
use slipway_model::{App, Health, ResourceKind};
use std::fmt::Write as _;

/// How often Prometheus scrapes and evaluates rules.
const INTERVAL: &str = "15s";
/// The seed's thresholds.
const PROBE_FAILURE_RATIO: f64 = 0.05;
const P99_SECONDS: f64 = 0.5;
/// Where the agent listens by default (`slipway serve`), seen from the monitoring
/// containers on the host's gateway.
const AGENT_TARGET: &str = "host.docker.internal:7878";

/// A service probed through the blackbox exporter: over HTTP on its health path,
/// or, with no HTTP health path, a TCP connect to its port.
struct Probe {
    service: String,
    /// The URL (HTTP) or `host:port` (TCP) probed.
    url: String,
    /// `blackbox-http` or `blackbox-tcp`.
    job: &'static str,
}

/// The blackbox modules per probe job (the exporter's stock `http_2xx` and
/// `tcp_connect`).
const PROBE_JOBS: [(&str, &str); 2] = [
    ("blackbox-http", "http_2xx"),
    ("blackbox-tcp", "tcp_connect"),
];
/// The selector of every probe series.
const PROBE_SELECTOR: &str = "job=~\"blackbox-http|blackbox-tcp\"";

/// A resource scraped through its exporter: name, kind, the exporter's address,
/// and the metric that is 0 when the exporter cannot reach the server.
struct Exporter {
    resource: String,
    job: &'static str,
    target: String,
    up_metric: &'static str,
}

impl Exporter {
    /// The scrape job: one per resource (`postgres-db`).
    fn job_name(&self) -> String {
        format!("{}-{}", self.job, self.resource)
    }
}

fn probes(app: &App) -> Vec<Probe> {
    app.services
        .values()
        .filter_map(|s| match (&s.health, s.port) {
            (Some(Health::Http { path }), Some(port)) => Some(Probe {
                service: s.name.clone(),
                url: format!("http://{}:{port}{path}", s.name),
                job: "blackbox-http",
            }),
            (_, Some(port)) => Some(Probe {
                service: s.name.clone(),
                url: format!("{}:{port}", s.name),
                job: "blackbox-tcp",
            }),
            _ => None,
        })
        .collect()
}

fn exporters(app: &App) -> Vec<Exporter> {
    app.resources
        .values()
        .filter_map(|r| {
            let (job, port, up_metric) = match r.kind {
                ResourceKind::Postgres => ("postgres", 9187, "pg_up"),
                ResourceKind::Redis => ("redis", 9121, "redis_up"),
                _ => return None,
            };
            Some(Exporter {
                resource: r.name.clone(),
                job,
                target: format!("{}-exporter:{port}", r.name),
                up_metric,
            })
        })
        .collect()
}

/// One alert rule: the same rule covers every service (or resource), so its
/// annotations name the subject through `$labels`.
struct Rule {
    name: &'static str,
    priority: &'static str,
    expr: String,
    for_: &'static str,
    summary: &'static str,
    description: &'static str,
}

/// One unit test of a rule: a series for one subject that fires it, and values of
/// the same series that do not.
struct Case {
    rule: &'static str,
    /// The alert's labels from its expression (the rule adds severity and priority).
    labels: Vec<(&'static str, String)>,
    series: String,
    firing: &'static str,
    quiet: &'static str,
    /// When to evaluate, in minutes after the series start.
    eval_minutes: u32,
}

fn severity(priority: &str) -> &'static str {
    match priority {
        "P1" => "critical",
        "P2" => "warning",
        _ => "info",
    }
}

fn anchor(name: &str) -> String {
    name.to_ascii_lowercase()
}

const SERVICE_DOWN: &str = "ServiceDown";
const PROBE_FAILURES: &str = "ServiceProbeFailures";
const SLOW: &str = "ServiceSlow";
const RESOURCE_DOWN: &str = "ResourceDown";
const TARGET_DOWN: &str = "MonitoringTargetDown";

/// The scrape jobs whose loss blinds the other alerts: with the blackbox exporter
/// or a resource's exporter gone, their series vanish and nothing else fires.
fn watched_jobs(app: &App) -> Vec<String> {
    let mut jobs = Vec::new();
    if !probes(app).is_empty() {
        jobs.push("blackbox".to_string());
    }
    jobs.extend(exporters(app).iter().map(Exporter::job_name));
    jobs
}

fn alert_rules(app: &App) -> Vec<Rule> {
    let mut out = Vec::new();
    if !probes(app).is_empty() {
        out.push(Rule {
            name: SERVICE_DOWN,
            priority: "P1",
            expr: format!("max by (service) (probe_success{{{PROBE_SELECTOR}}}) == 0"),
            for_: "5m",
            summary: "{{ $labels.service }} is down",
            description: "No health probe of {{ $labels.service }} has succeeded for 5 minutes: the service is not answering its health check.",
        });
        out.push(Rule {
            name: PROBE_FAILURES,
            priority: "P2",
            expr: format!("service:probe_failure:ratio_rate5m > {PROBE_FAILURE_RATIO}"),
            for_: "5m",
            summary: "{{ $labels.service }} fails more than 5% of its health probes",
            description: "Over the last 5 minutes more than 5% of the health probes of {{ $labels.service }} failed.",
        });
        out.push(Rule {
            name: SLOW,
            priority: "P2",
            expr: format!("service:probe_duration_seconds:p99_5m > {P99_SECONDS}"),
            for_: "5m",
            summary: "{{ $labels.service }} answers slower than 500 ms at p99",
            description: "The 99th percentile of the health probe's duration for {{ $labels.service }} has been over 500 ms for 5 minutes.",
        });
    }
    let mut up: Vec<&str> = exporters(app).iter().map(|e| e.up_metric).collect();
    up.sort_unstable();
    up.dedup();
    if !up.is_empty() {
        out.push(Rule {
            name: RESOURCE_DOWN,
            priority: "P1",
            expr: format!(
                "min by (resource) ({{__name__=~\"{}\"}}) == 0",
                up.join("|")
            ),
            for_: "2m",
            summary: "{{ $labels.resource }} is down",
            description: "The exporter of {{ $labels.resource }} has not reached it for 2 minutes; every service using it is affected.",
        });
    }
    let jobs = watched_jobs(app);
    if !jobs.is_empty() {
        out.push(Rule {
            name: TARGET_DOWN,
            priority: "P1",
            expr: format!("up{{job=~\"{}\"}} == 0", jobs.join("|")),
            for_: "5m",
            summary: "{{ $labels.job }} cannot be scraped",
            description: "Prometheus has not scraped {{ $labels.job }} at {{ $labels.instance }} for 5 minutes: the alerts that read it are blind until it is back.",
        });
    }
    out
}

fn cases(app: &App) -> Vec<Case> {
    let mut out = Vec::new();
    for p in probes(app) {
        let labels = format!(
            "job=\"{}\",service=\"{}\",instance=\"{}\"",
            p.job, p.service, p.url
        );
        let success = format!("probe_success{{{labels}}}");
        out.push(Case {
            rule: SERVICE_DOWN,
            labels: vec![("service", p.service.clone())],
            series: success.clone(),
            firing: "0x20",
            quiet: "1x20",
            eval_minutes: 15,
        });
        out.push(Case {
            rule: PROBE_FAILURES,
            labels: vec![("service", p.service.clone())],
            series: success,
            // One failure in every four probes: 25%, yet never 5 minutes down.
            firing: "1 1 1 0 1 1 1 0 1 1 1 0 1 1 1 0 1 1 1 0 1 1 1 0",
            quiet: "1x24",
            eval_minutes: 20,
        });
        out.push(Case {
            rule: SLOW,
            labels: vec![("service", p.service.clone())],
            series: format!("probe_duration_seconds{{{labels}}}"),
            firing: "0.9x20",
            quiet: "0.05x20",
            eval_minutes: 15,
        });
    }
    for e in exporters(app) {
        out.push(Case {
            rule: RESOURCE_DOWN,
            labels: vec![("resource", e.resource.clone())],
            series: format!(
                "{}{{job=\"{}\",resource=\"{}\",instance=\"{}\"}}",
                e.up_metric,
                e.job_name(),
                e.resource,
                e.target
            ),
            firing: "0x10",
            quiet: "1x10",
            eval_minutes: 5,
        });
    }
    let targets: Vec<(String, String)> = exporters(app)
        .iter()
        .map(|e| (e.job_name(), e.target.clone()))
        .chain(
            (!probes(app).is_empty())
                .then(|| ("blackbox".to_string(), "blackbox:9115".to_string())),
        )
        .collect();
    for (job, instance) in targets {
        out.push(Case {
            rule: TARGET_DOWN,
            labels: vec![("instance", instance.clone()), ("job", job.clone())],
            series: format!("up{{job=\"{job}\",instance=\"{instance}\"}}"),
            firing: "0x10",
            quiet: "1x10",
            eval_minutes: 8,
        });
    }
    out
}

/// A rule's annotations; with `labels`, as Prometheus expands them for an alert
/// with those labels.
fn annotations(r: &Rule, labels: &[(&str, String)]) -> Value {
    let expand = |t: &str| {
        labels.iter().fold(t.to_string(), |t, (k, v)| {
            t.replace(&format!("{{{{ $labels.{k} }}}}"), v)
        })
    };
    json!({
        "summary": expand(r.summary),
        "description": expand(r.description),
        "runbook_url": format!("ALERTS.md#{}", anchor(r.name)),
    })
}

fn rules(app: &App, alerts: &[Rule]) -> Value {
    let mut groups = Vec::new();
    if !probes(app).is_empty() {
        groups.push(json!({
            "name": format!("{}-recording", app.name),
            "interval": INTERVAL,
            "rules": [
                {
                    "record": "service:probe_failure:ratio_rate5m",
                    "expr": format!("1 - avg by (service) (avg_over_time(probe_success{{{PROBE_SELECTOR}}}[5m]))"),
                },
                {
                    "record": "service:probe_duration_seconds:p99_5m",
                    "expr": format!("max by (service) (quantile_over_time(0.99, probe_duration_seconds{{{PROBE_SELECTOR}}}[5m]))"),
                },
            ],
        }));
    }
    let rules: Vec<Value> = alerts
        .iter()
        .map(|a| {
            json!({
                "alert": a.name,
                "expr": a.expr,
                "for": a.for_,
                "labels": { "severity": severity(a.priority), "priority": a.priority },
                "annotations": annotations(a, &[]),
            })
        })
        .collect();
    if !rules.is_empty() {
        groups.push(json!({ "name": format!("{}-alerts", app.name), "rules": rules }));
    }
    json!({ "groups": groups })
}

/// `promtool test rules` cases: every alert fires on its failing series and stays
/// quiet on its healthy one, for every service and resource.
fn tests(app: &App, alerts: &[Rule]) -> Value {
    let cases: Vec<Value> = cases(app)
        .iter()
        .filter_map(|c| Some((c, alerts.iter().find(|r| r.name == c.rule)?)))
        .flat_map(|(c, r)| {
            let mut labels = serde_json::Map::new();
            labels.insert("severity".into(), severity(r.priority).into());
            labels.insert("priority".into(), r.priority.into());
            for (k, v) in &c.labels {
                labels.insert((*k).into(), v.clone().into());
            }
            let case = |values: &str, fires: bool| {
                json!({
                    "interval": "1m",
                    "input_series": [{ "series": c.series, "values": values }],
                    "alert_rule_test": [{
                        "eval_time": format!("{}m", c.eval_minutes),
                        "alertname": r.name,
                        "exp_alerts": if fires {
                            json!([{ "exp_labels": labels, "exp_annotations": annotations(r, &c.labels) }])
                        } else {
                            json!([])
                        },
                    }],
                })
            };
            [case(c.firing, true), case(c.quiet, false)]
        })
        .collect();
    json!({
        "rule_files": [format!("../rules/{}.yml", app.name)],
        "evaluation_interval": "1m",
        "tests": cases,
    })
}

fn prometheus(app: &App) -> Value {
    let mut jobs = vec![json!({
        "job_name": "prometheus",
        "static_configs": [{ "targets": ["localhost:9090"] }],
    })];
    let probes = probes(app);
    for (job, module) in PROBE_JOBS {
        let targets: Vec<Value> = probes
            .iter()
            .filter(|p| p.job == job)
            .map(|p| json!({ "targets": [p.url], "labels": { "service": p.service } }))
            .collect();
        if targets.is_empty() {
            continue;
        }
        jobs.push(json!({
            "job_name": job,
            "metrics_path": "/probe",
            "params": { "module": [module] },
            "static_configs": targets,
            // The blackbox exporter's multi-target pattern: the URL becomes the
            // `target` parameter and the instance label; the exporter is scraped.
            "relabel_configs": [
                { "source_labels": ["__address__"], "target_label": "__param_target" },
                { "source_labels": ["__param_target"], "target_label": "instance" },
                { "target_label": "__address__", "replacement": "blackbox:9115" },
            ],
        }));
    }
    if !probes.is_empty() {
        jobs.push(json!({
            "job_name": "blackbox",
            "static_configs": [{ "targets": ["blackbox:9115"] }],
        }));
    }
    for e in exporters(app) {
        jobs.push(json!({
            "job_name": e.job_name(),
            "static_configs": [{
                "targets": [e.target],
                "labels": { "resource": e.resource },
            }],
        }));
    }
    jobs.push(json!({
        "#": "reachable when the agent listens beyond 127.0.0.1 and answers for this name: slipway serve --listen 0.0.0.0:7878 --allowed-host host.docker.internal",
        "job_name": "slipway-agent",
        "static_configs": [{ "targets": [AGENT_TARGET] }],
    }));
    json!({
        "global": {
            "scrape_interval": INTERVAL,
            "evaluation_interval": INTERVAL,
            "external_labels": { "app": app.name },
        },
        "rule_files": [format!("rules/{}.yml", app.name)],
        "alerting": {
            "alertmanagers": [{ "static_configs": [{ "targets": ["alertmanager:9093"] }] }],
        },
        "scrape_configs": jobs,
    })
}

fn alertmanager() -> Value {
    let inhibit: Vec<Value> = ["service", "resource"]
        .iter()
        .map(|l| {
            json!({
                "source_matchers": ["priority=\"P1\"", format!("{l}!=\"\"")],
                "target_matchers": ["priority=\"P2\"", format!("{l}!=\"\"")],
                "equal": [l],
            })
        })
        .collect();
    json!({
        "route": {
            "receiver": "default",
            "group_by": ["alertname", "service", "resource"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                { "matchers": ["priority=\"P1\""], "receiver": "default", "repeat_interval": "1h" },
                { "matchers": ["priority=\"P2\""], "receiver": "default" },
                { "matchers": ["priority=\"P3\""], "receiver": "default", "repeat_interval": "24h" },
            ],
        },
        // A page for a service (or resource) silences its own warnings until it is
        // resolved. Both sides must carry the label: Alertmanager counts a missing
        // label as equal to a missing one, so without the matchers one page would
        // silence every warning of every other service.
        "inhibit_rules": inhibit,
        "receivers": [{ "name": "default" }],
    })
}

fn alerts_doc(app: &App, alerts: &[Rule]) -> String {
    let mut text = format!(
        "# Alerts of {}\n\nGenerated by slipway from the same model as the rest of the output. Each\nsection is where an alert's `runbook_url` points.\n",
        app.name
    );
    for a in alerts {
        let _ = write!(
            text,
            "\n## {}\n\nPriority {} (`severity: {}`).\n\n",
            a.name,
            a.priority,
            severity(a.priority)
        );
        let body = match a.name {
            SERVICE_DOWN => "**What it means:** no health probe of the service has succeeded for 5 minutes.\n\n**First checks:**\n1. `docker compose ps` (or `kubectl get pods`): is the container running, restarting, unhealthy?\n2. The service's logs since the alert started.\n3. Its dependencies: a `ResourceDown` alert for a resource it uses comes first.\n\n**Fix:** restart the service or roll back the last release (`slipway rollback`).\n",
            PROBE_FAILURES => "**What it means:** more than 5% of the health probes failed over 5 minutes, while the service is not fully down.\n\n**First checks:**\n1. Replicas: is one of several unhealthy?\n2. Timeouts: the health endpoint answering slower than the probe's timeout.\n3. Resource limits: CPU throttling or memory near the limit.\n\n**Fix:** replace the failing replica; raise limits or fix the slow path.\n",
            SLOW => "**What it means:** the 99th percentile of the health probe's duration has been over 500 ms for 5 minutes.\n\n**First checks:**\n1. Load: requests per second against the usual.\n2. The database: slow queries, connections near the limit.\n3. CPU throttling of the container.\n\n**Fix:** scale out (`slipway scale`), or fix what the checks found.\n",
            TARGET_DOWN => "**What it means:** Prometheus cannot scrape the blackbox exporter or a resource's exporter, so the alerts that read it cannot fire.\n\n**First checks:**\n1. Is the exporter's container running?\n2. Its logs: credentials or the address of the resource.\n3. The network between Prometheus and the exporter.\n\n**Fix:** restart the exporter; fix its settings.\n",
            _ => "**What it means:** the exporter cannot reach the resource for 2 minutes; every service using it is affected.\n\n**First checks:**\n1. Is the resource's container running and healthy?\n2. Its volume: disk full, permissions.\n3. Its logs since the alert started.\n\n**Fix:** restart the resource; restore from the last backup when its data is lost.\n",
        };
        text.push_str(body);
    }
    text
}

pub(crate) fn emit(app: &App, req: &EmitRequest, templates: &Templates, out: &mut Emitted) {
    let alerts = alert_rules(app);
    let trace = app.trace.location();
    let docs = [
        ("monitoring/prometheus/prometheus.yml", prometheus(app)),
        (
            &*format!("monitoring/prometheus/rules/{}.yml", app.name),
            rules(app, &alerts),
        ),
        (
            &*format!("monitoring/prometheus/tests/{}.test.yml", app.name),
            tests(app, &alerts),
        ),
        ("monitoring/alertmanager/alertmanager.yml", alertmanager()),
    ]
    .map(|(p, v)| (p.to_string(), v));
    let mut paths = Vec::new();
    for (path, doc) in docs {
        let view = minijinja::context! {
            source => &req.source,
            trace => &trace,
            doc => crate::templates::JsonDoc::value(doc),
        };
        match templates
            .render("monitoring/config.yaml.j2", &view)
            .and_then(|text| {
                validate::yaml(&text, "monitoring/config.yaml.j2", &path).map(|()| text)
            }) {
            Ok(text) => {
                out.files.add(path.clone(), text);
                paths.push(path);
            }
            Err(d) => out.diagnostics.push(d),
        }
    }
    out.files
        .add("monitoring/ALERTS.md", alerts_doc(app, &alerts));
    paths.push("monitoring/ALERTS.md".into());
    // Traced: what is watched. What is not is said, not silently left out.
    let probed: Vec<String> = probes(app).into_iter().map(|p| p.service).collect();
    let scraped: Vec<String> = exporters(app).into_iter().map(|e| e.resource).collect();
    let traces: Vec<String> = app
        .services
        .values()
        .filter(|s| probed.contains(&s.name))
        .map(slipway_model::Service::id)
        .chain(
            app.resources
                .values()
                .filter(|r| scraped.contains(&r.name))
                .map(slipway_model::Resource::id),
        )
        .collect();
    let unwatched: Vec<String> = app
        .services
        .values()
        .filter(|s| !probed.contains(&s.name))
        .map(|s| format!("service `{}` (no port to probe)", s.name))
        .chain(
            app.resources
                .values()
                .filter(|r| !scraped.contains(&r.name))
                .map(|r| {
                    format!(
                        "resource `{}` (no exporter for {} yet)",
                        r.name,
                        r.kind.as_str()
                    )
                }),
        )
        .collect();
    if !unwatched.is_empty() {
        out.diagnostics.push(
            slipway_diagnostics::Diagnostic::new(
                "GEN034",
                slipway_diagnostics::Severity::Info,
                format!("not monitored: {}", unwatched.join(", ")),
            )
            .in_file(&req.source)
            .help("give a service a `port` (and a `health` path) to have it probed; PostgreSQL and Redis resources get exporters"),
        );
    }
    out.files.artifact(
        "artifact.monitoring".into(),
        "monitoring",
        traces,
        "Prometheus scrape config, alert and recording rules with their promtool tests, Alertmanager routing, and the alerts' runbook".into(),
        paths,
    );
    out.diagnostics.push(
        slipway_diagnostics::Diagnostic::new(
            "GEN033",
            slipway_diagnostics::Severity::Info,
            "alerts route to the Alertmanager receiver `default`, which has no notification settings yet",
        )
        .in_file(&req.source)
        .help("add a webhook, email or chat configuration to `default` in monitoring/alertmanager/alertmanager.yml"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Alertmanager treats a label missing on both alerts as equal, so an inhibit
    /// rule whose `equal` label is not required on both sides silences alerts of
    /// other services. Every rule must require its `equal` labels on both sides.
    #[test]
    fn inhibit_rules_require_the_labels_they_compare() {
        let am = alertmanager();
        let rules = am["inhibit_rules"].as_array().unwrap();
        assert!(!rules.is_empty());
        for r in rules {
            for label in r["equal"].as_array().unwrap() {
                let need = format!("{}!=\"\"", label.as_str().unwrap());
                for side in ["source_matchers", "target_matchers"] {
                    assert!(
                        r[side].as_array().unwrap().iter().any(|m| m == &need),
                        "{side} of {r} lacks {need}"
                    );
                }
            }
        }
    }

    #[test]
    fn annotations_expand_every_label_of_the_alert() {
        let rule = Rule {
            name: TARGET_DOWN,
            priority: "P1",
            expr: String::new(),
            for_: "5m",
            summary: "{{ $labels.job }} cannot be scraped",
            description: "{{ $labels.job }} at {{ $labels.instance }}",
        };
        let a = annotations(
            &rule,
            &[
                ("job", "blackbox".into()),
                ("instance", "blackbox:9115".into()),
            ],
        );
        assert_eq!(a["summary"], "blackbox cannot be scraped");
        assert_eq!(a["description"], "blackbox at blackbox:9115");
        assert_eq!(a["runbook_url"], "ALERTS.md#monitoringtargetdown");
    }
}
