//! The OpenAPI 3.0 description served at `/openapi.json`, written by hand next to
//! the routes it describes (a test checks every route is in it).

use serde_json::{json, Value};

fn problem(desc: &str) -> Value {
    json!({ "description": desc, "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } })
}

fn ok(desc: &str, schema: &Value) -> Value {
    json!({ "description": desc, "content": { "application/json": { "schema": schema } } })
}

#[must_use]
pub fn document() -> Value {
    let any_object = json!({ "type": "object" });
    let auth = json!([{ "bearer": [] }]);
    let id_param = |name: &str| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$" } });
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": { "title": "slipway agent", "version": env!("CARGO_PKG_VERSION"), "description": "Generate, deploy, watch: the slipway engine over HTTP. Errors are RFC 9457 problem documents with a stable `code`." },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Problem": { "type": "object", "required": ["type", "title", "status", "code"], "properties": {
                    "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
                    "detail": { "type": "string" }, "code": { "type": "string" } } },
                "GenerateRequest": { "type": "object", "additionalProperties": false, "required": ["environment", "template_spec"], "properties": {
                    "deployment_id": { "type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$" },
                    "environment": { "type": "string", "minLength": 1 },
                    "template_spec": { "type": "string", "minLength": 1, "description": "an absolute path to a slipway.yaml on the agent's host, or the spec itself" },
                    "runtime": { "type": "string", "enum": ["compose", "swarm"] },
                    "parameters": { "type": "object", "additionalProperties": false, "properties": {
                        "image_map": { "type": "object", "additionalProperties": { "type": "string" } },
                        "project": { "type": "string" }, "out": { "type": "string" } } },
                    "policy_profile": { "type": "string", "enum": ["default", "production-guardrails"] } } },
                "DeployRequest": { "type": "object", "additionalProperties": false, "required": ["deployment_id"], "properties": {
                    "deployment_id": { "type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$" },
                    "plan_only": { "type": "boolean" },
                    "strategy": { "type": "string", "enum": ["recreate", "rolling", "blue_green", "canary"] },
                    "traffic_shift": { "type": "integer", "minimum": 1, "maximum": 100 } } },
                "DeploymentRef": { "type": "object", "additionalProperties": false, "required": ["deployment_id"], "properties": {
                    "deployment_id": { "type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$" } } },
            }
        },
        "paths": {
            "/healthz": { "get": { "summary": "Liveness", "responses": { "200": ok("alive", &any_object) } } },
            "/readyz": { "get": { "summary": "Readiness: the store is open and interrupted operations are reconciled", "responses": { "200": ok("ready", &any_object), "503": problem("not ready or draining") } } },
            "/metrics": { "get": { "summary": "Prometheus metrics", "responses": { "200": { "description": "text exposition format", "content": { "text/plain": { "schema": { "type": "string" } } } } } } },
            "/": { "get": { "summary": "The dashboard (HTML)", "responses": { "200": { "description": "the page", "content": { "text/html": { "schema": { "type": "string" } } } } } } },
            "/deployments": { "get": { "summary": "Every deployment, newest first, with its latest operation", "security": auth, "responses": { "200": ok("deployments", &any_object), "401": problem("no valid token"), "503": problem("draining") } } },
            "/openapi.json": { "get": { "summary": "This document", "responses": { "200": ok("OpenAPI 3.0", &any_object) } } },
            "/generate": { "post": { "summary": "Spec to artifacts, with their digests and the policy verdict", "security": auth,
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/GenerateRequest" } } } },
                "responses": { "200": ok("generated", &any_object), "401": problem("no valid token"), "403": problem("read-only token"), "413": problem("body too large"), "422": problem("invalid request, spec errors, policy failure, or deployment id reused"), "429": problem("rate limited"), "503": problem("draining") } } },
            "/deploy": { "post": { "summary": "Apply (202 with the operation) or plan (200) a generated deployment", "security": auth,
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/DeployRequest" } } } },
                "responses": { "200": ok("a plan, or the stored result of an identical request", &any_object), "202": ok("accepted; follow links.status and links.events", &any_object), "401": problem("no valid token"), "403": problem("read-only token"), "404": problem("unknown deployment"), "409": problem("an operation is in progress or the target is locked"), "413": problem("body too large"), "422": problem("invalid request"), "429": problem("rate limited"), "502": problem("the engine failed; see logs_ref"), "503": problem("draining") } } },
            "/rollback": { "post": { "summary": "Put the last good release before this deployment back on its target (202 with the operation)", "security": auth,
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/DeploymentRef" } } } },
                "responses": { "202": ok("accepted; follow links.status and links.events", &any_object), "401": problem("no valid token"), "403": problem("read-only token"), "404": problem("unknown deployment"), "409": problem("an operation is in progress, the target is locked, or nothing earlier to go back to"), "413": problem("body too large"), "422": problem("invalid request"), "429": problem("rate limited"), "502": problem("the engine failed; see logs_ref"), "503": problem("draining") } } },
            "/drift-scan": { "post": { "summary": "Compare desired and actual state now", "security": auth,
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/DeploymentRef" } } } },
                "responses": { "200": ok("the findings", &any_object), "401": problem("no valid token"), "403": problem("read-only token"), "404": problem("unknown deployment"), "409": problem("nothing deployed yet"), "413": problem("body too large"), "422": problem("invalid request"), "429": problem("rate limited"), "502": problem("the engine failed"), "503": problem("draining") } } },
            "/status/{deployment_id}": { "get": { "summary": "Operation phase and allowed actions, health, sync with remediation, recent audit entries", "security": auth,
                "parameters": [id_param("deployment_id")],
                "responses": { "200": ok("status", &any_object), "401": problem("no valid token"), "404": problem("unknown deployment"), "503": problem("draining") } } },
            "/audit": { "get": { "summary": "The audit log, oldest first, after a cursor", "security": auth,
                "parameters": [
                    { "name": "after", "in": "query", "schema": { "type": "integer", "minimum": 0 } },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 1000 } },
                    { "name": "deployment_id", "in": "query", "schema": { "type": "string" } } ],
                "responses": { "200": ok("records and next_cursor", &any_object), "401": problem("no valid token"), "422": problem("invalid query"), "503": problem("draining") } } },
            "/events": { "get": { "summary": "Live events: SSE (Accept: text/event-stream, Last-Event-ID), WebSocket (Upgrade), or long-poll JSON", "security": auth,
                "parameters": [
                    { "name": "after", "in": "query", "schema": { "type": "integer", "minimum": 0 } },
                    { "name": "wait", "in": "query", "schema": { "type": "string", "pattern": "^[0-9]{1,5}(ms|s)?$" } },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 5000 } },
                    { "name": "deployment_id", "in": "query", "schema": { "type": "string" } } ],
                "responses": { "200": ok("events after the cursor", &any_object), "401": problem("no valid token"), "422": problem("invalid query"), "503": problem("too many subscribers or draining") } } },
            "/logs/{logs_ref}": { "get": { "summary": "An engine failure's output (secrets redacted)", "security": auth,
                "parameters": [id_param("logs_ref")],
                "responses": { "200": { "description": "log text", "content": { "text/plain": { "schema": { "type": "string" } } } }, "401": problem("no valid token"), "404": problem("no such log"), "503": problem("draining") } } },
        }
    });
    add_guard_responses(&mut doc);
    doc
}

/// The refusals every operation can answer before its handler (guard.rs), and those
/// of every body (a wrong media type, a body that stalls).
fn add_guard_responses(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for ops in paths.values_mut().filter_map(Value::as_object_mut) {
        for (method, op) in ops.iter_mut() {
            let Some(responses) = op["responses"].as_object_mut() else {
                continue;
            };
            let mut add = |code: &str, desc: &str| {
                let entry = responses.entry(code).or_insert_with(|| problem(""));
                let before = entry["description"].as_str().unwrap_or("").to_string();
                entry["description"] = json!(if before.is_empty() {
                    desc.to_string()
                } else {
                    format!("{before}; or {desc}")
                });
            };
            add(
                "403",
                "forbidden_origin: an Origin other than the agent's own",
            );
            add("414", "uri_too_long: path and query over 8 KiB");
            add(
                "421",
                "forbidden_host: a Host that is not an address or --allowed-host name of the agent",
            );
            if method == "post" {
                add(
                    "408",
                    "request_timeout: the body did not arrive within --body-timeout-secs",
                );
                add(
                    "415",
                    "unsupported_media_type: the body is not Content-Type: application/json",
                );
            }
        }
    }
}
