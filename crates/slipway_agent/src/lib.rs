//! `slipway serve`: the engine's use cases behind an HTTP API (SPEC §6). Routes, bearer
//! auth with read and deploy scopes, problem+json errors, body and rate limits, the
//! live event stream (SSE, WebSocket, REST fallback), Prometheus metrics, JSON log
//! lines, graceful shutdown on SIGTERM and reconciliation on start. The engine is
//! blocking; its calls run on the blocking pool. Depends on the engine only.

mod auth;
mod events;
mod guard;
mod idempotency;
mod local_token;
mod metrics;
mod openapi;
mod problem;
mod relay;
mod routes;
mod server;
mod staging;
mod trace;

pub use auth::{parse_tokens, Scope, Token};
pub use events::{Ring, RingConfig};
pub use local_token::LOCAL_TOKEN_FILE;
pub use relay::run as relay_store_events;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{label, Metrics};
use problem::Problem;
use slipway_engine::{Ops, Store};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("refusing to listen on {0} without a token: configure --tokens-file or SLIPWAY_AGENT_TOKENS, or listen on 127.0.0.1")]
    OpenWithoutToken(SocketAddr),
    #[error("cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the state store: {0}")]
    Store(String),
    #[error("{0}")]
    Config(String),
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("cannot create {path}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub listen: SocketAddr,
    pub tokens: Vec<Token>,
    /// Requests, logs and inline specs live here.
    pub data_dir: PathBuf,
    /// `template_spec` paths must lie under one of these folders.
    pub spec_roots: Vec<PathBuf>,
    pub database_url: String,
    pub max_body_bytes: usize,
    /// Mutating calls per second per caller.
    pub mutating_per_sec: u32,
    pub ring: RingConfig,
    pub engine_timeout: Duration,
    pub health_timeout: Duration,
    /// How long SIGTERM waits for running operations before it records them as
    /// interrupted and exits.
    pub drain_timeout: Duration,
    /// A subscriber that does not read for this long is dropped.
    pub subscriber_stall: Duration,
    /// OTLP/HTTP collector (`http://HOST:PORT`) for the infra.* spans.
    pub otlp_endpoint: Option<String>,
    /// Events older than this are deleted from the store (checked hourly). The audit
    /// log is never pruned.
    pub event_retention: Duration,
    /// Names (DNS) the agent answers for besides its listen address, in `Host`.
    pub allowed_hosts: Vec<String>,
    /// Without `tokens`: the token mutating calls need (`serve` writes it to
    /// `<data_dir>/local-token`); reads need none.
    pub local_token: Option<Token>,
    /// Open connections at most; at the cap the idlest is closed.
    pub max_connections: usize,
    /// A connection must send a complete request head within this, from its
    /// accept or the end of its last response.
    pub header_timeout: Duration,
    /// A request body must arrive whole within this after its head; else 408.
    pub body_timeout: Duration,
}

impl AgentConfig {
    pub fn new(listen: SocketAddr, data_dir: PathBuf, database_url: String) -> AgentConfig {
        AgentConfig {
            listen,
            tokens: Vec::new(),
            spec_roots: std::env::current_dir().into_iter().collect(),
            data_dir,
            database_url,
            max_body_bytes: 1024 * 1024,
            mutating_per_sec: 50,
            ring: RingConfig::default(),
            engine_timeout: Duration::from_secs(900),
            health_timeout: Duration::from_secs(180),
            drain_timeout: Duration::from_secs(30),
            subscriber_stall: Duration::from_secs(10),
            otlp_endpoint: None,
            event_retention: Duration::from_secs(7 * 24 * 3600),
            allowed_hosts: Vec::new(),
            local_token: None,
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// Token-bucket state of one caller.
struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct AppState {
    pub cfg: AgentConfig,
    pub store: Arc<dyn Store>,
    pub ring: Arc<Ring>,
    pub metrics: Metrics,
    pub ready: AtomicBool,
    pub draining: AtomicBool,
    /// Target -> the operation this agent runs there (one at a time per target).
    pub inflight: Mutex<HashMap<String, String>>,
    pub running: AtomicUsize,
    buckets: Mutex<HashMap<String, Bucket>>,
    /// Rendered `/status` bodies: (rendered at, body, a refresh is under way).
    pub status_cache: Mutex<HashMap<String, (Instant, bytes::Bytes, bool)>>,
    /// Bumped whenever the cache is invalidated; a render that began before a bump
    /// is not cached (it may describe a target as it was before an operation).
    pub status_epoch: std::sync::atomic::AtomicU64,
    pub tracer: trace::Tracer,
}

impl AppState {
    /// A fresh agent state over an open store (not ready until `ready` is set).
    pub fn new(cfg: AgentConfig, store: Arc<dyn Store>) -> Arc<AppState> {
        let cfg_otlp = cfg.otlp_endpoint.clone();
        Arc::new(AppState {
            ring: Arc::new(Ring::new(cfg.ring.clone())),
            cfg,
            store,
            metrics: Metrics::default(),
            ready: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            inflight: Mutex::new(HashMap::new()),
            running: AtomicUsize::new(0),
            buckets: Mutex::new(HashMap::new()),
            status_cache: Mutex::new(HashMap::new()),
            status_epoch: std::sync::atomic::AtomicU64::new(0),
            tracer: trace::Tracer::new(cfg_otlp.as_deref()).unwrap_or_default(),
        })
    }

    pub fn ops(&self, actor: &str) -> Ops {
        Ops {
            store: self.store.clone(),
            actor: actor.to_string(),
            operation_id: None,
        }
    }

    /// One JSON log line on stderr.
    pub fn log(&self, level: &str, msg: &str, fields: &serde_json::Value) {
        let mut line =
            serde_json::json!({ "ts": slipway_engine::now_ms(), "level": level, "msg": msg });
        if let (Some(l), Some(f)) = (line.as_object_mut(), fields.as_object()) {
            l.extend(f.clone());
        }
        eprintln!("{line}");
    }

    /// Refuses a caller above `mutating_per_sec`.
    pub fn rate_limit(&self, who: &str) -> Result<(), Problem> {
        let rate = f64::from(self.cfg.mutating_per_sec.max(1));
        let Ok(mut b) = self.buckets.lock() else {
            return Ok(());
        };
        let e = b.entry(who.to_string()).or_insert(Bucket {
            tokens: rate,
            at: Instant::now(),
        });
        e.tokens = (e.tokens + e.at.elapsed().as_secs_f64() * rate).min(rate);
        e.at = Instant::now();
        if e.tokens < 1.0 {
            return Err(Problem::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
                format!(
                    "at most {} mutating calls per second per caller",
                    self.cfg.mutating_per_sec
                ),
            )
            .retry_after(1));
        }
        e.tokens -= 1.0;
        Ok(())
    }
}

/// The one layer in front of every route: 503 while draining (probes excepted),
/// the Host/Origin guard, and metrics. One layer, not three: each layer is another
/// boxed future per request, and `/healthz` runs at tens of thousands a second.
async fn front(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let resp = if state.draining.load(Ordering::SeqCst)
        && !matches!(route, "/healthz" | "/readyz" | "/metrics")
    {
        Problem::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "draining",
            "The agent is shutting down",
            "retry against another agent or after the restart",
        )
        .retry_after(5)
        .into_response()
    } else if let Err(p) = guard::admit(&state.cfg, req.uri(), req.headers()) {
        p.into_response()
    } else {
        next.run(req).await
    };
    let status = resp.status().as_u16();
    LABELS.with_borrow_mut(|key| {
        key.clear();
        let _ = write!(
            key,
            "method=\"{}\",route=\"{}\",status=\"{status}\"",
            label(method.as_str()),
            label(route)
        );
        state.metrics.http_requests.add(key, 1);
    });
    state
        .metrics
        .http_duration
        .observe(started.elapsed().as_secs_f64());
    resp
}

thread_local! {
    /// The request counter's label set, formatted into one buffer per worker thread.
    static LABELS: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

pub fn router(state: Arc<AppState>) -> axum::Router {
    routes::routes(state.clone())
        .layer(axum::middleware::from_fn_with_state(state.clone(), front))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.cfg.max_body_bytes,
        ))
        .with_state(state)
}

/// Opens the store, reconciles interrupted operations, listens, and serves until
/// SIGTERM or SIGINT; then drains.
pub async fn serve(mut cfg: AgentConfig) -> Result<(), AgentError> {
    if !cfg.listen.ip().is_loopback() && cfg.tokens.is_empty() {
        return Err(AgentError::OpenWithoutToken(cfg.listen));
    }
    if let Some(e) = &cfg.otlp_endpoint {
        // Checked here so a bad URL stops the start instead of disabling tracing.
        if !e.starts_with("http://")
            || e.trim_start_matches("http://")
                .trim_end_matches('/')
                .contains('/')
        {
            return Err(AgentError::Config(format!(
                "--otlp-endpoint `{e}` is not http://HOST:PORT"
            )));
        }
    }
    // Inline specs only: requests, parameters and logs live in the store, shared by
    // every agent on it.
    let specs = cfg.data_dir.join("specs");
    std::fs::create_dir_all(&specs).map_err(|source| AgentError::DataDir {
        path: specs.clone(),
        source,
    })?;
    // Tokenless (loopback only, checked above): read-only but for the local token.
    let mut local_token_note = None;
    if cfg.tokens.is_empty() {
        let local = local_token::ensure(&cfg.data_dir).map_err(|source| AgentError::DataDir {
            path: cfg.data_dir.join(LOCAL_TOKEN_FILE),
            source,
        })?;
        cfg.local_token = Some(Token::new("local", Scope::Deploy, &local.secret));
        local_token_note = Some(local);
    }
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| AgentError::Listen {
            addr: cfg.listen,
            source,
        })?;
    let (url, base) = (cfg.database_url.clone(), cfg.data_dir.clone());
    let store = tokio::task::spawn_blocking(move || slipway_engine::open_store(&url, &base))
        .await
        .map_err(|e| AgentError::Store(e.to_string()))?
        .map_err(|e| AgentError::Store(e.to_string()))?;
    // Events are relayed from the store from here on (see relay.rs), so those of
    // the reconciliation below, and of other agents and the CLI, reach subscribers.
    let st = store.clone();
    let start = tokio::task::spawn_blocking(move || st.last_event_seq())
        .await
        .map_err(|e| AgentError::Store(e.to_string()))?
        .map_err(|e| AgentError::Store(e.to_string()))?;
    let state = AppState::new(cfg, store);
    tokio::spawn(relay::run(state.clone(), start));
    tokio::spawn(relay::prune(state.clone()));
    state.log(
        "info",
        "listening",
        &serde_json::json!({ "addr": state.cfg.listen.to_string(), "stage": "start" }),
    );
    if let Some(local) = local_token_note {
        let path = local.path.display();
        // The secret is shown once, when it is made; restarts name the file only.
        let (msg, token) = if local.created {
            let msg = format!("local deploy token written to {path}; mutating calls need it as `Authorization: Bearer TOKEN`, reads need none");
            (msg, Some(local.secret))
        } else {
            let msg = format!("no tokens configured: read-only without the local token in {path}");
            (msg, None)
        };
        let mut fields = serde_json::json!({ "stage": "start" });
        if let Some(t) = token {
            fields["token"] = serde_json::json!(t);
        }
        state.log("info", &msg, &fields);
    }
    // Reconcile on the side: /readyz says false until it is done.
    let st = state.clone();
    tokio::spawn(async move {
        let ops = st.ops("agent");
        let done =
            tokio::task::spawn_blocking(move || slipway_engine::reconcile(&ops, &mut |_| {})).await;
        match done {
            Ok(Ok(settled)) => st.log(
                "info",
                "reconciled",
                &serde_json::json!({ "stage": "reconcile", "operations": settled.len() }),
            ),
            Ok(Err(e)) => st.log(
                "error",
                &format!("reconciliation failed: {e}"),
                &serde_json::json!({ "stage": "reconcile" }),
            ),
            Err(e) => st.log(
                "error",
                &format!("reconciliation panicked: {e}"),
                &serde_json::json!({ "stage": "reconcile" }),
            ),
        }
        st.ready.store(true, Ordering::SeqCst);
    });
    let st = state.clone();
    let shutdown = async move {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        st.draining.store(true, Ordering::SeqCst);
        st.log("info", "draining", &serde_json::json!({ "stage": "shutdown", "running": st.running.load(Ordering::SeqCst) }));
        let until = Instant::now() + st.cfg.drain_timeout;
        while st.running.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        routes::persist_interrupted(&st);
        let running = st.running.load(Ordering::SeqCst);
        if running > 0 {
            // The deadline holds: the engine calls still running are cancelled (their
            // process groups killed) and the process ends now, so no apply continues
            // behind an agent that said it stopped. The operations are recorded as
            // interrupted; the next start reconciles them against the engine.
            let cancelled = slipway_engine::cancel_engine_calls();
            st.log(
                "warn",
                "drain deadline passed: engine calls cancelled; the next start reconciles the interrupted operations",
                &serde_json::json!({ "stage": "shutdown", "running": running, "cancelled": cancelled }),
            );
            st.log(
                "info",
                "stopped",
                &serde_json::json!({ "stage": "shutdown" }),
            );
            std::process::exit(0);
        }
    };
    let limits = server::Limits {
        max_connections: state.cfg.max_connections,
        header_timeout: state.cfg.header_timeout,
        body_timeout: state.cfg.body_timeout,
    };
    server::run(
        listener,
        router(state.clone()),
        limits,
        state.clone(),
        shutdown,
    )
    .await;
    state.log(
        "info",
        "stopped",
        &serde_json::json!({ "stage": "shutdown" }),
    );
    Ok(())
}

/// `serve` on a multi-threaded runtime of its own, for the CLI.
pub fn run(cfg: AgentConfig) -> Result<(), AgentError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(AgentError::Runtime)?
        .block_on(serve(cfg))
}
