//! OBS001 prometheus-config-and-rules.

use crate::rules::{rule, Findings, Rule, RuleMeta};
use crate::tree::{Monitoring, Tree};
use slipway_import::yaml::Node;
use std::path::Path;

rule! {
    /// ## What it does
    /// Checks Prometheus configuration: `rule_files` resolve to files among those
    /// checked, `job_name`s are unique, and static targets are `host:port` (unless the job
    /// moves them into `__param_target`, as the blackbox exporter's probes do). In rules
    /// files: every rule has an `expr` with balanced brackets and quotes and either
    /// `alert` or `record`; every alert has `for`, a `severity` label and a `summary`
    /// annotation.
    ///
    /// ## Why
    /// Prometheus refuses to reload a config whose rule files are missing, and an
    /// alert without `for` pages on every blip while one without a summary pages with
    /// nothing to act on.
    ///
    /// ## Example
    /// ```yaml
    /// groups:
    ///   - name: api
    ///     rules: [{ alert: ApiDown, expr: "up{job=\"api\"} == 0" }]
    /// ```
    ///
    /// ## Fix
    /// Add `for: 5m`, `labels: { severity: page }` and `annotations: { summary: ... }`; fix paths and duplicate jobs.
    ///
    /// Peers: promtool check config / check rules; Cloudflare pint (alerts/for, rule/label).
    Obs001 { id: "OBS001", name: "prometheus-config-and-rules", severity: Error, production: true, peers: "promtool check config/rules; pint" }
}

fn balanced(expr: &str) -> bool {
    let mut stack = Vec::new();
    let mut quote: Option<char> = None;
    let mut prev = '\0';
    for c in expr.chars() {
        match (quote, c) {
            (Some(q), c) if c == q && prev != '\\' => quote = None,
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(' | '{' | '[') => stack.push(c),
            (None, ')' | '}' | ']') => {
                let want = match c {
                    ')' => '(',
                    '}' => '{',
                    _ => '[',
                };
                if stack.pop() != Some(want) {
                    return false;
                }
            }
            _ => {}
        }
        prev = c;
    }
    stack.is_empty() && quote.is_none()
}

impl Rule for Obs001 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        let rule_file_names: Vec<String> = tree
            .monitoring(Monitoring::Rules)
            .map(|(f, _)| f.name.clone())
            .collect();
        for (file, root) in tree.monitoring(Monitoring::Prometheus) {
            let dir = Path::new(&file.name)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            for rf in root.get("rule_files").and_then(Node::as_seq).unwrap_or(&[]) {
                let pattern = rf.as_scalar().unwrap_or("");
                let joined = dir.join(pattern).to_string_lossy().replace('\\', "/");
                let found = rule_file_names
                    .iter()
                    .any(|n| crate::profile::glob(&joined, n) || *n == joined);
                if !found {
                    out.add(
                        &Self::META,
                        file,
                        rf.span,
                        format!("rule file `{pattern}` matches no rules file here"),
                        Some("fix the path, or add the rules file"),
                    );
                }
            }
            let mut jobs: Vec<&str> = Vec::new();
            for sc in root
                .get("scrape_configs")
                .and_then(Node::as_seq)
                .unwrap_or(&[])
            {
                let Some(j) = sc.get("job_name") else {
                    out.add(
                        &Self::META,
                        file,
                        sc.span,
                        "a scrape config has no `job_name`",
                        None,
                    );
                    continue;
                };
                let name = j.as_scalar().unwrap_or("");
                if jobs.contains(&name) {
                    out.add(
                        &Self::META,
                        file,
                        j.span,
                        format!("job `{name}` is defined twice"),
                        Some("give every scrape config its own job_name"),
                    );
                }
                jobs.push(name);
                // The blackbox exporter's multi-target pattern lists URLs or names
                // as targets: it moves the target into `__param_target` and points
                // `__address__` at the exporter. Only such a job is exempt.
                let relabels = sc
                    .get("relabel_configs")
                    .and_then(Node::as_seq)
                    .unwrap_or(&[]);
                let sets = |label: &str| {
                    relabels
                        .iter()
                        .any(|r| r.get("target_label").and_then(Node::as_scalar) == Some(label))
                };
                if sets("__param_target") && sets("__address__") {
                    continue;
                }
                for t in sc
                    .get("static_configs")
                    .and_then(Node::as_seq)
                    .unwrap_or(&[])
                    .iter()
                    .flat_map(|s| s.get("targets").and_then(Node::as_seq).unwrap_or(&[]))
                {
                    let target = t.as_scalar().unwrap_or("");
                    let ok = target
                        .rsplit_once(':')
                        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
                    if !ok {
                        out.add(
                            &Self::META,
                            file,
                            t.span,
                            format!("target `{target}` is not host:port"),
                            None,
                        );
                    }
                }
            }
        }
        for (file, root) in tree.monitoring(Monitoring::Rules) {
            for g in root.get("groups").and_then(Node::as_seq).unwrap_or(&[]) {
                for r in g.get("rules").and_then(Node::as_seq).unwrap_or(&[]) {
                    let expr = r.get("expr").and_then(Node::as_scalar).unwrap_or("");
                    if expr.trim().is_empty() || !balanced(expr) {
                        out.add(
                            &Self::META,
                            file,
                            r.get("expr").unwrap_or(r).span,
                            "the rule's `expr` is empty or its brackets or quotes do not balance",
                            Some("check it with `promtool check rules`"),
                        );
                    }
                    let Some(alert) = r.get("alert") else {
                        if r.get("record").is_none() {
                            out.add(
                                &Self::META,
                                file,
                                r.span,
                                "a rule has neither `alert` nor `record`",
                                None,
                            );
                        }
                        continue;
                    };
                    let name = alert.as_scalar().unwrap_or("");
                    let mut missing = Vec::new();
                    if r.get("for").is_none() {
                        missing.push("`for`");
                    }
                    if r.get("labels").and_then(|l| l.get("severity")).is_none() {
                        missing.push("a `severity` label");
                    }
                    if r.get("annotations")
                        .and_then(|a| a.get("summary"))
                        .is_none()
                    {
                        missing.push("a `summary` annotation");
                    }
                    if !missing.is_empty() {
                        out.add(
                            &Self::META,
                            file,
                            alert.span,
                            format!("alert `{name}` has no {}", missing.join(", ")),
                            Some("add for, labels.severity and annotations.summary"),
                        );
                    }
                }
            }
        }
    }
}
