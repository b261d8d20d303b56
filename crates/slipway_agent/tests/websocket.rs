//! The event stream's WebSocket keep-alive, on the real router over TCP in this
//! process (no Docker): the agent pings every `ping_every`; a client that answers
//! keeps its subscription, and one that has gone silent (a peer that vanished
//! without closing) is closed and its subscriber slot freed, with no event flowing.

use slipway_agent::{router, AgentConfig, AppState};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An agent with a 200 ms ping interval on a free port of 127.0.0.1.
async fn agent(dir: &std::path::Path) -> (Arc<AppState>, u16) {
    let url = format!("sqlite://{}/state.db", dir.display());
    let mut cfg = AgentConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        dir.join("agent"),
        url.clone(),
    );
    cfg.ring.ping_every = Duration::from_millis(200);
    let store = slipway_engine::open_store(&url, dir).unwrap();
    let state = AppState::new(cfg, store);
    state.ready.store(true, Ordering::SeqCst);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = router(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (state, port)
}

fn ws_open(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s
}

/// Reads frames for `long`, answering each ping; the number of pings.
fn answer_pings(s: &mut TcpStream, long: Duration) -> usize {
    let until = Instant::now() + long;
    let mut pings = 0;
    while Instant::now() < until {
        let mut h = [0u8; 2];
        s.read_exact(&mut h)
            .expect("the agent keeps a client that answers");
        let mut body = vec![0u8; usize::from(h[1] & 0x7f)];
        s.read_exact(&mut body).unwrap();
        assert_eq!(h[0], 0x89, "only pings on an idle stream");
        pings += 1;
        let mut pong = vec![0x8a, 0x80 | h[1], 0, 0, 0, 0];
        pong.extend_from_slice(&body);
        s.write_all(&pong).unwrap();
    }
    pings
}

fn wait_subscribers(state: &AppState, n: usize, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while state.ring.subscribers.load(Ordering::SeqCst) != n {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_that_answers_pings_stays_and_a_silent_one_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let (state, port) = agent(dir.path()).await;
    tokio::task::spawn_blocking(move || {
        let alive = std::thread::spawn(move || {
            let mut s = ws_open(port);
            answer_pings(&mut s, Duration::from_secs(3))
        });
        wait_subscribers(&state, 1, "a WebSocket opened");
        // A client that reads nothing and answers nothing, as a vanished peer: the
        // agent closes it (the socket ends) and frees its slot.
        let mut silent = ws_open(port);
        silent
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut rest = Vec::new();
        silent
            .read_to_end(&mut rest)
            .expect("the agent closes a WebSocket that answers no ping");
        wait_subscribers(&state, 1, "the silent WebSocket's slot is freed");
        assert!(
            alive.join().unwrap() >= 2,
            "the answering client was pinged"
        );
        wait_subscribers(&state, 0, "the answering client went");
    })
    .await
    .unwrap();
}
