//! K8S015 references-resolve.

use super::{containers, labels, object_id, pod_labels, pod_spec, Node, Tree};
use crate::rules::{rule, Findings, Rule, RuleMeta};

rule! {
    /// ## What it does
    /// Resolves references between objects across every file checked: a workload's
    /// selector matches its pod template's labels; a Service's selector matches some
    /// pod template; Ingress backends, HPA targets and PDB selectors find their
    /// objects; referenced ServiceAccounts and ConfigMaps exist. (Secrets are
    /// expected to be created outside the repository and are not required.) A
    /// ConfigMap that a kustomization's `configMapGenerator` creates exists, under
    /// its own name and with the kustomization's `namePrefix`/`nameSuffix`.
    ///
    /// ## Why
    /// These mistakes pass schema validation and most scanners, and show up only as
    /// a Service with no endpoints or a pod stuck in `CreateContainerConfigError`.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Service
    /// spec: { selector: { app: web } }   # the pods are labelled app: frontend
    /// ```
    ///
    /// ## Fix
    /// Make the selector and the labels agree, or create the missing object.
    ///
    /// Peers: kube-linter mismatching-selector, dangling-service, non-existent-service-account; kube-score service-targets-pod, ingress-targets-service, horizontalpodautoscaler-has-target.
    K8s015 { id: "K8S015", name: "references-resolve", severity: Error, production: true, peers: "kube-linter mismatching-selector, dangling-service, non-existent-service-account; kube-score service-targets-pod" }
}

fn kind_of(o: &Node) -> &str {
    o.get("kind").and_then(Node::as_scalar).unwrap_or("")
}

fn name(o: &Node) -> &str {
    o.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_scalar)
        .unwrap_or("")
}

impl Rule for K8s015 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, tree: &Tree, out: &mut Findings) {
        let objects: Vec<_> = tree.objects().filter(|(f, _)| !tree.is_patch(f)).collect();
        let templates: Vec<Vec<(String, String)>> = objects
            .iter()
            .filter(|(_, o)| pod_spec(o).is_some())
            .map(|(_, o)| pod_labels(o))
            .collect();
        // Indexes, so every lookup below is a map probe and the rule stays linear.
        let mut by_label: std::collections::BTreeMap<&(String, String), Vec<usize>> =
            std::collections::BTreeMap::new();
        for (i, t) in templates.iter().enumerate() {
            for pair in t {
                by_label.entry(pair).or_default().push(i);
            }
        }
        let matches_some = |sel: &[(String, String)]| {
            sel.first()
                .and_then(|first| by_label.get(first))
                .is_some_and(|candidates| {
                    candidates
                        .iter()
                        .any(|&i| sel.iter().all(|p| templates[i].contains(p)))
                })
        };
        let index: std::collections::BTreeSet<(&str, &str)> =
            objects.iter().map(|(_, o)| (kind_of(o), name(o))).collect();
        // Objects a kustomize generator creates exist too (`configMapGenerator`,
        // `secretGenerator`; under their own name and with the kustomization's
        // `namePrefix`/`nameSuffix`).
        let exists = |kind: &str, n: &str| {
            index.contains(&(kind, n))
                || tree.generated.contains(&(kind.to_string(), n.to_string()))
        };
        for (file, obj) in &objects {
            let id = object_id(obj);
            match kind_of(obj) {
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => {
                    if let Some(sel) = obj
                        .get("spec")
                        .and_then(|s| s.get("selector"))
                        .and_then(|s| s.get("matchLabels"))
                    {
                        let tpl = labels(
                            obj.get("spec")
                                .and_then(|s| s.get("template"))
                                .and_then(|t| t.get("metadata"))
                                .and_then(|m| m.get("labels")),
                        );
                        if !labels(Some(sel)).iter().all(|p| tpl.contains(p)) {
                            out.add(&Self::META, file, sel.span, format!("{id}: the selector does not match the pod template's labels"), Some("make spec.selector.matchLabels a subset of spec.template.metadata.labels"));
                        }
                    }
                }
                "Service" => {
                    if let Some(sel) = obj.get("spec").and_then(|s| s.get("selector")) {
                        let sel_labels = labels(Some(sel));
                        if !sel_labels.is_empty() && !matches_some(&sel_labels) {
                            out.add(
                                &Self::META,
                                file,
                                sel.span,
                                format!(
                                    "{id}: no pod template has the labels this Service selects"
                                ),
                                Some("fix the selector or the pod labels"),
                            );
                        }
                    }
                }
                "Ingress" => {
                    for rule in obj
                        .get("spec")
                        .and_then(|s| s.get("rules"))
                        .and_then(Node::as_seq)
                        .unwrap_or(&[])
                    {
                        for p in rule
                            .get("http")
                            .and_then(|h| h.get("paths"))
                            .and_then(Node::as_seq)
                            .unwrap_or(&[])
                        {
                            if let Some(svc) = p
                                .get("backend")
                                .and_then(|b| b.get("service"))
                                .and_then(|s| s.get("name"))
                            {
                                let n = svc.as_scalar().unwrap_or("");
                                if !exists("Service", n) {
                                    out.add(
                                        &Self::META,
                                        file,
                                        svc.span,
                                        format!("{id}: backend Service `{n}` does not exist"),
                                        Some("create the Service or fix the name"),
                                    );
                                }
                            }
                        }
                    }
                }
                "HorizontalPodAutoscaler" => {
                    if let Some(t) = obj.get("spec").and_then(|s| s.get("scaleTargetRef")) {
                        let (k, n) = (
                            t.get("kind").and_then(Node::as_scalar).unwrap_or(""),
                            t.get("name").and_then(Node::as_scalar).unwrap_or(""),
                        );
                        if !exists(k, n) {
                            out.add(
                                &Self::META,
                                file,
                                t.span,
                                format!("{id}: target {k}/{n} does not exist"),
                                Some("fix scaleTargetRef"),
                            );
                        }
                    }
                }
                "PodDisruptionBudget" => {
                    if let Some(sel) = obj
                        .get("spec")
                        .and_then(|s| s.get("selector"))
                        .and_then(|s| s.get("matchLabels"))
                    {
                        if !matches_some(&labels(Some(sel))) {
                            out.add(
                                &Self::META,
                                file,
                                sel.span,
                                format!("{id}: no pod template matches this selector"),
                                Some("fix the selector"),
                            );
                        }
                    }
                }
                _ => {}
            }
            let Some(pod) = pod_spec(obj) else { continue };
            if let Some(sa) = pod.get("serviceAccountName") {
                let n = sa.as_scalar().unwrap_or("");
                if n != "default" && !exists("ServiceAccount", n) {
                    out.add(
                        &Self::META,
                        file,
                        sa.span,
                        format!("{id}: ServiceAccount `{n}` does not exist"),
                        Some("create it or fix the name"),
                    );
                }
            }
            let mut config_refs: Vec<&Node> = Vec::new();
            for (c, _) in containers(pod) {
                for e in c.get("envFrom").and_then(Node::as_seq).unwrap_or(&[]) {
                    if let Some(n) = e.get("configMapRef").and_then(|r| r.get("name")) {
                        if e.get("configMapRef")
                            .and_then(|r| r.get("optional"))
                            .and_then(Node::as_bool)
                            != Some(true)
                        {
                            config_refs.push(n);
                        }
                    }
                }
            }
            for v in pod.get("volumes").and_then(Node::as_seq).unwrap_or(&[]) {
                if let Some(n) = v.get("configMap").and_then(|c| c.get("name")) {
                    config_refs.push(n);
                }
            }
            for n in config_refs {
                let cm = n.as_scalar().unwrap_or("");
                if !exists("ConfigMap", cm) {
                    out.add(
                        &Self::META,
                        file,
                        n.span,
                        format!("{id}: ConfigMap `{cm}` does not exist"),
                        Some("create it or fix the name"),
                    );
                }
            }
        }
    }
}
