//! The HTTP/1 accept loop under `serve`, in place of `axum::serve`, which has no
//! read timeouts and no connection cap. Each connection has a header read timeout: a
//! connection with no request in flight for that long (one that sends nothing, sends
//! its request head too slowly, or idles between requests) is closed. It is one timer
//! per connection, re-armed only when it fires, rather than hyper's timer per request
//! (which cost about 5% of `/healthz` throughput). Each request body has a deadline to
//! arrive whole (a
//! stalled body ends in [`BodyTimeout`], which the routes answer with 408). At most
//! `max_connections` are open: a new one at the cap closes the connection idle the
//! longest (no request in flight), and is itself closed when every connection is
//! busy. So idle or half-open connections can neither use up the process's file
//! descriptors nor lock `/healthz` out. Responses that stream (SSE, long-poll) keep
//! their connection busy until they end, and a WebSocket keeps its slot until it
//! closes; neither timeout applies to them. Serves any `Router`; knows no route.

use crate::AppState;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

/// File descriptors kept free of connections: the store, engine pipes, logs.
const RESERVED_FDS: usize = 128;

/// After the drain, how long responses under way (a long-poll, a slow reader) get
/// to finish before the process stops regardless.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    /// From accepting a connection, or the end of its last response, to a complete
    /// request head.
    pub header_timeout: Duration,
    /// From the request head to the end of its body.
    pub body_timeout: Duration,
}

/// How a request body ends that did not arrive whole in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} s", .0.as_secs())]
pub struct BodyTimeout(pub Duration);

impl BodyTimeout {
    /// Whether `err`, or an error it wraps, is a body timeout.
    pub fn caused(err: &(dyn std::error::Error + 'static)) -> bool {
        let mut e = Some(err);
        while let Some(x) = e {
            if x.is::<BodyTimeout>() {
                return true;
            }
            e = x.source();
        }
        false
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets every open
/// connection finish its request, waiting at most [`CLOSE_GRACE`] for them.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) {
    let cap = capped(limits.max_connections, &state);
    let registry = Arc::new(Registry::new(cap));
    let http = Arc::new(http1::Builder::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, done_rx) = watch::channel(());
    let mut warned: Option<Instant> = None;
    let mut warn = |msg: &str| {
        // At most one line per 10 s: a flood must not become a flood of logs.
        if warned.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) {
            warned = Some(Instant::now());
            state.log("warn", msg, &serde_json::json!({ "stage": "accept" }));
        }
    };
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => break,
        };
        let (stream, remote) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // A connection reset before it was accepted needs no pause; running
                // out of descriptors or memory does, or the loop would spin.
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset
                ) {
                    warn(&format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                continue;
            }
        };
        let Some(slot) = registry.admit() else {
            warn(&format!(
                "{cap} connections, each with a request in flight: closing new ones"
            ));
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            http.clone(),
            Counted { io: stream, slot },
            remote,
            router.clone(),
            limits,
            stop_rx.clone(),
            done_rx.clone(),
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(done_rx);
    let _ = tokio::time::timeout(CLOSE_GRACE, done_tx.closed()).await;
}

/// `max_connections`, lowered to leave [`RESERVED_FDS`] of the open-files limit.
fn capped(max_connections: usize, state: &AppState) -> usize {
    let Some(limit) = open_files_limit() else {
        return max_connections.max(1);
    };
    let room = limit.saturating_sub(RESERVED_FDS).max(1);
    if max_connections > room {
        state.log(
            "warn",
            &format!("--max-connections {max_connections} lowered to {room}: the open-files limit is {limit}"),
            &serde_json::json!({ "stage": "start" }),
        );
        return room;
    }
    max_connections.max(1)
}

/// The soft limit on open files (from /proc on Linux; None elsewhere or unlimited).
fn open_files_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

async fn connection(
    http: Arc<http1::Builder>,
    io: Counted,
    remote: SocketAddr,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    _done: watch::Receiver<()>,
) {
    let conn = io.slot.conn.clone();
    let svc = {
        let conn = conn.clone();
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let busy = Busy::start(&conn);
            // An empty body (most requests) has nothing to time out.
            let mut req = req.map(|b| {
                if http_body::Body::is_end_stream(&b) {
                    Body::new(b)
                } else {
                    Body::new(TimedBody::new(b, limits.body_timeout))
                }
            });
            req.extensions_mut().insert(ConnectInfo(remote));
            let call = tower_service::Service::call(&mut router.clone(), req);
            async move {
                let Ok(resp) = call.await;
                if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
                    // Upgraded: busy until the socket closes, never evicted.
                    busy.0.busy.fetch_add(1, Ordering::SeqCst);
                }
                Ok::<_, Infallible>(resp.map(|inner| Body::new(Tracked { inner, _busy: busy })))
            }
        })
    };
    let served = http.serve_connection(TokioIo::new(io), svc).with_upgrades();
    tokio::pin!(served);
    tokio::select! {
        _ = served.as_mut() => return,
        // Evicted: dropping the connection closes the socket.
        () = conn.close.notified() => return,
        // No request in flight for the header timeout: closed the same way.
        () = idle_watch(&conn, limits.header_timeout) => return,
        _ = stop.wait_for(|stop| *stop) => {}
    }
    served.as_mut().graceful_shutdown();
    let _ = served.await;
}

/// Returns once `conn` has had no request in flight for `limit`.
async fn idle_watch(conn: &Conn, limit: Duration) {
    loop {
        let since = conn.active_ms.load(Ordering::SeqCst);
        let due = conn.epoch + Duration::from_millis(since) + limit;
        tokio::time::sleep_until(due.max(Instant::now()).into()).await;
        if conn.busy.load(Ordering::SeqCst) > 0 {
            // Serving: look again a whole period after now.
            tokio::time::sleep(limit).await;
            continue;
        }
        if conn.active_ms.load(Ordering::SeqCst) == since {
            return;
        }
    }
}

/// One open connection, as the cap sees it.
struct Conn {
    id: u64,
    /// The registry's clock: a counter that orders the moments connections go idle.
    clock: Arc<AtomicU64>,
    /// Requests whose response has not been written whole.
    busy: AtomicUsize,
    /// The clock's reading when it last had nothing in flight.
    idle_since: AtomicU64,
    /// When the connection opened.
    epoch: Instant,
    /// Milliseconds after `epoch` that a request last started or ended.
    active_ms: AtomicU64,
    close: Notify,
}

impl Conn {
    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst)
    }

    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.active_ms.store(ms, Ordering::SeqCst);
    }
}

/// The open connections.
struct Registry {
    cap: usize,
    clock: Arc<AtomicU64>,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
}

impl Registry {
    fn new(cap: usize) -> Registry {
        Registry {
            cap,
            clock: Arc::new(AtomicU64::new(0)),
            conns: Mutex::new(HashMap::new()),
        }
    }

    /// A slot for a new connection. At the cap the connection idle the longest is
    /// told to close; when none is idle there is no slot.
    fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        if conns.len() >= self.cap {
            let idlest = conns
                .values()
                .filter(|c| c.busy.load(Ordering::SeqCst) == 0)
                .min_by_key(|c| c.idle_since.load(Ordering::SeqCst))?
                .id;
            if let Some(c) = conns.remove(&idlest) {
                c.close.notify_one();
            }
        }
        let now = self.clock.fetch_add(1, Ordering::SeqCst);
        let conn = Arc::new(Conn {
            id: now,
            clock: self.clock.clone(),
            busy: AtomicUsize::new(0),
            idle_since: AtomicU64::new(now),
            epoch: Instant::now(),
            active_ms: AtomicU64::new(0),
            close: Notify::new(),
        });
        conns.insert(conn.id, conn.clone());
        Some(Slot {
            registry: self.clone(),
            conn,
        })
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// A connection's place under the cap, given back when its socket closes.
struct Slot {
    registry: Arc<Registry>,
    conn: Arc<Conn>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.registry
            .conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.conn.id);
    }
}

/// A request in flight on its connection, until its response is written or dropped.
struct Busy(Arc<Conn>);

impl Busy {
    fn start(conn: &Arc<Conn>) -> Busy {
        conn.busy.fetch_add(1, Ordering::SeqCst);
        conn.touch();
        Busy(conn.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        if self.0.busy.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.touch();
            self.0.idle_since.store(self.0.tick(), Ordering::SeqCst);
        }
    }
}

/// The socket with its slot: an upgraded connection (WebSocket) moves the socket
/// out of hyper, and its slot goes with it.
struct Counted {
    io: TcpStream,
    slot: Slot,
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// A request body that fails with [`BodyTimeout`] once its deadline passes.
///
/// The deadline is armed the first time the body makes the reader wait, so a
/// request whose body is already there (or empty: most requests) never touches the
/// timer wheel.
struct TimedBody {
    inner: Incoming,
    limit: Duration,
    started: Instant,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl TimedBody {
    fn new(inner: Incoming, limit: Duration) -> TimedBody {
        TimedBody {
            inner,
            limit,
            started: Instant::now(),
            deadline: None,
        }
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let deadline = this.deadline.get_or_insert_with(|| {
            Box::pin(tokio::time::sleep_until(
                tokio::time::Instant::from_std(this.started) + this.limit,
            ))
        });
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout(this.limit))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that keeps its connection busy until it is written or dropped.
struct Tracked {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_idlest_connection_makes_room_and_busy_ones_stay() {
        let reg = Arc::new(Registry::new(3));
        let open = |slot: &Slot| reg.conns.lock().unwrap().contains_key(&slot.conn.id);
        let first = reg.admit().unwrap();
        let second = reg.admit().unwrap();
        let third = reg.admit().unwrap();
        // The first and third are serving; the second is idle, so it goes.
        let _busy_first = Busy::start(&first.conn);
        let busy_third = Busy::start(&third.conn);
        let fourth = reg.admit().unwrap();
        assert_eq!(reg.len(), 3);
        assert!(!open(&second));
        // Its task learns it must close (the permit waits for it).
        assert!(futures_util::FutureExt::now_or_never(second.conn.close.notified()).is_some());
        // The third ends its response after the fourth was accepted: the fourth has
        // been idle longer, so it goes.
        drop(busy_third);
        let fifth = reg.admit().unwrap();
        assert!(open(&third));
        assert!(!open(&fourth));
        // Everything busy: no slot, nothing closed.
        let _busy_third = Busy::start(&third.conn);
        let _busy_fifth = Busy::start(&fifth.conn);
        assert!(reg.admit().is_none());
        assert_eq!(reg.len(), 3);
        // A closed socket gives its slot back.
        drop(fifth);
        assert_eq!(reg.len(), 2);
        assert!(reg.admit().is_some());
    }

    #[test]
    fn a_body_timeout_is_found_through_wrapping_errors() {
        let wrapped = axum::Error::new(BodyTimeout(Duration::from_secs(2)));
        assert!(BodyTimeout::caused(&wrapped));
        assert!(!BodyTimeout::caused(&std::io::Error::other("x")));
    }
}
