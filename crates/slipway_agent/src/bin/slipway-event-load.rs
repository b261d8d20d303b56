//! A bounded load generator for the agent's event stream (the figures in
//! BENCHMARKS.md). It runs the real agent router in this process on 127.0.0.1, has
//! the agent publish at a fixed rate, connects N SSE subscribers over TCP, and reports
//! delivered events per second, publish-to-deliver latency (p50, p99, max), gaps,
//! events the rate limit dropped, and the process's memory over time.
//!
//!   slipway-event-load [--seconds 60] [--subscribers 1000] [--rate 10000] [--filtered]
//!                      [--ring-events 1000000] [--via-store] [--help]
//!
//! `--filtered`: each subscriber follows one deployment id and events are spread over
//! as many ids (a dashboard per deployment); otherwise every subscriber gets every event.
//! `--via-store`: events take the engine's path instead. Each is appended to the
//! agent's SQLite store (one committed transaction each), and the agent's relay
//! carries it to the ring, so latency includes the commit and the relay's poll.

use slipway_agent::{relay_store_events, router, AgentConfig, AppState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

const USAGE: &str = "\
slipway-event-load: a bounded load generator for the agent's event stream

usage: slipway-event-load [--seconds 60] [--subscribers 1000] [--rate 10000] [--filtered]
                          [--ring-events 1000000] [--via-store]

  --seconds N        publish for N seconds (default 60)
  --subscribers N    SSE subscribers over TCP (default 1000)
  --rate N           events published per second (default 10000)
  --ring-events N    the ring's size in events (default 1000000)
  --filtered         each subscriber follows one deployment id
  --via-store        append each event to the store; the agent's relay carries it
  -h, --help         print this help
";

/// What to run.
#[derive(Debug, PartialEq, Eq)]
struct Load {
    seconds: u64,
    subscribers: u64,
    rate: u64,
    ring_events: u64,
    filtered: bool,
    via_store: bool,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Args {
    Run(Load),
    Help,
    /// A usage error: the message.
    Bad(String),
}

fn parse(args: &[String]) -> Args {
    let mut load = Load {
        seconds: 60,
        subscribers: 1000,
        rate: 10_000,
        ring_events: 1_000_000,
        filtered: false,
        via_store: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let field = match a.as_str() {
            "-h" | "--help" => return Args::Help,
            "--filtered" => {
                load.filtered = true;
                continue;
            }
            "--via-store" => {
                load.via_store = true;
                continue;
            }
            "--seconds" => &mut load.seconds,
            "--subscribers" => &mut load.subscribers,
            "--rate" => &mut load.rate,
            "--ring-events" => &mut load.ring_events,
            other => return Args::Bad(format!("unknown argument `{other}`")),
        };
        match it.next().map(|v| v.parse::<u64>()) {
            Some(Ok(n)) => *field = n,
            Some(Err(_)) => return Args::Bad(format!("{a} takes a whole number")),
            None => return Args::Bad(format!("{a} needs a value")),
        }
    }
    Args::Run(load)
}

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Latency histogram in 1 ms buckets up to 10 s.
struct Stats {
    buckets: Vec<AtomicU64>,
    delivered: AtomicU64,
    gaps: AtomicU64,
    max_us: AtomicU64,
}

impl Stats {
    fn record(&self, us: u64) {
        let b = usize::try_from(us / 1000)
            .unwrap_or(usize::MAX)
            .min(self.buckets.len() - 1);
        self.buckets[b].fetch_add(1, Ordering::Relaxed);
        self.delivered.fetch_add(1, Ordering::Relaxed);
        self.max_us.fetch_max(us, Ordering::Relaxed);
    }

    fn percentile(&self, p: f64) -> u64 {
        let total = self.delivered.load(Ordering::Relaxed);
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let want = ((total as f64) * p).ceil() as u64;
        let mut seen = 0;
        for (ms, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= want {
                return ms as u64;
            }
        }
        u64::MAX
    }
}

async fn subscriber(port: u16, filter: Option<String>, stats: Arc<Stats>, until: Instant) {
    let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return;
    };
    let q = filter
        .map(|f| format!("?deployment_id={f}"))
        .unwrap_or_default();
    let req =
        format!("GET /events{q} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return;
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending = Vec::new();
    while Instant::now() < until {
        let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf))
            .await
            .map_err(|_| ())
            .and_then(|r| r.map_err(|_| ()))
            .map(Ok::<usize, ()>)
        else {
            continue;
        };
        if n == 0 {
            return;
        }
        pending.extend_from_slice(&buf[..n]);
        let mut start = 0;
        while let Some(pos) = pending[start..].iter().position(|b| *b == b'\n') {
            let line = &pending[start..start + pos];
            if line.starts_with(b"event: gap") {
                stats.gaps.fetch_add(1, Ordering::Relaxed);
            } else if let Some(i) = line.windows(7).position(|w| w == b"\"t_us\":") {
                let digits: Vec<u8> = line[i + 7..]
                    .iter()
                    .copied()
                    .take_while(u8::is_ascii_digit)
                    .collect();
                if let Ok(t) = std::str::from_utf8(&digits).unwrap_or("").parse::<u64>() {
                    stats.record(now_us().saturating_sub(t));
                }
            }
            start += pos + 1;
        }
        pending.drain(..start);
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Args::Help => {
            print!("{USAGE}");
            std::process::ExitCode::SUCCESS
        }
        Args::Bad(why) => {
            eprintln!("slipway-event-load: {why}\n\n{USAGE}");
            std::process::ExitCode::from(2)
        }
        Args::Run(load) => {
            run(&load);
            std::process::ExitCode::SUCCESS
        }
    }
}

fn run(load: &Load) {
    let Load {
        seconds,
        subscribers,
        rate,
        ring_events,
        filtered,
        via_store,
    } = *load;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async move {
        let dir = std::env::temp_dir().join(format!("slipway-event-load-{}", std::process::id()));
        let store = slipway_engine::open_store(&format!("sqlite://{}/agent.db", dir.display()), &dir).expect("a agent store");
        let mut cfg = AgentConfig::new("127.0.0.1:0".parse().expect("an address"), dir.clone(), String::new());
        cfg.ring.max_subscribers = usize::try_from(subscribers).unwrap_or(usize::MAX) + 10;
        cfg.ring.publish_per_sec = u32::try_from(rate).unwrap_or(u32::MAX);
        cfg.ring.max_events = usize::try_from(ring_events).unwrap_or(usize::MAX);
        let agent = AppState::new(cfg, store.clone());
        agent.ready.store(true, Ordering::SeqCst);
        if via_store {
            let start = store.last_event_seq().expect("the store's last event");
            tokio::spawn(relay_store_events(agent.clone(), start));
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let app = router(agent.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let stats = Arc::new(Stats { buckets: (0..10_000).map(|_| AtomicU64::new(0)).collect(), delivered: AtomicU64::new(0), gaps: AtomicU64::new(0), max_us: AtomicU64::new(0) });
        let until = Instant::now() + Duration::from_secs(seconds + 3);
        for i in 0..subscribers {
            let f = filtered.then(|| format!("d{i}"));
            tokio::spawn(subscriber(port, f, stats.clone(), until));
        }
        while agent.ring.subscribers.load(Ordering::SeqCst) < usize::try_from(subscribers).unwrap_or(0) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let rss_start = rss_kb("VmRSS:");
        // Publish: one batch per millisecond.
        let ring = agent.ring.clone();
        let publish_until = Instant::now() + Duration::from_secs(seconds);
        if via_store {
            // The engine's path: one committed append per event, at the rate, from a
            // thread of its own (the engine's operations run on blocking threads).
            let store = store.clone();
            let appended = tokio::task::spawn_blocking(move || {
                let started = Instant::now();
                let mut sent: u64 = 0;
                while Instant::now() < publish_until {
                    let due = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX) * rate / 1_000_000;
                    if sent >= due {
                        std::thread::sleep(Duration::from_micros(200));
                        continue;
                    }
                    let dep = format!("d{}", sent % subscribers.max(1));
                    let data = serde_json::json!({ "t_us": now_us(), "step": "wait" }).to_string();
                    let e = slipway_engine::NewEvent { deployment_id: &dep, operation_id: None, kind: "progress", data: &data };
                    store.append_event(&e, 0).expect("an appended event");
                    sent += 1;
                }
                (sent, started.elapsed())
            })
            .await
            .expect("the appending thread");
            tokio::time::sleep(Duration::from_secs(3)).await;
            let delivered = stats.delivered.load(Ordering::Relaxed);
            let expected = if filtered { appended.0 } else { appended.0 * subscribers };
            println!("via store: seconds={seconds} subscribers={subscribers} rate={rate}/s filtered={filtered}");
            #[allow(clippy::cast_precision_loss)]
            let per_sec = appended.0 as f64 / appended.1.as_secs_f64();
            println!("appended={} ({per_sec:.0}/s) relayed_to_ring={}", appended.0, ring.published.load(Ordering::Relaxed));
            println!("delivered={delivered} of {expected} expected, gaps={} subscribers_dropped={}", stats.gaps.load(Ordering::Relaxed), ring.subscribers_dropped.load(Ordering::Relaxed));
            println!("latency_ms p50={} p99={} max={}", stats.percentile(0.50), stats.percentile(0.99), stats.max_us.load(Ordering::Relaxed) / 1000);
            println!("rss_mb start={} peak={}", rss_start / 1024, rss_kb("VmHWM:") / 1024);
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
        let started = Instant::now();
        let mut sent: u64 = 0;
        let mut rss_samples = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        let mut n: u64 = 0;
        while Instant::now() < publish_until {
            tick.tick().await;
            let due = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX) * rate / 1_000_000;
            while sent < due {
                let dep = format!("d{}", n % subscribers.max(1));
                n += 1;
                ring.publish("progress", Some(&dep), &serde_json::json!({ "t_us": now_us(), "step": "wait" }));
                sent += 1;
            }
            if sent % (rate * 10).max(1) < rate / 1000 + 1 {
                rss_samples.push(rss_kb("VmRSS:") / 1024);
            }
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        let secs = started.elapsed().as_secs_f64() - 3.0;
        let delivered = stats.delivered.load(Ordering::Relaxed);
        let expected = if filtered { sent } else { sent * subscribers };
        println!("seconds={seconds} subscribers={subscribers} rate={rate}/s filtered={filtered} ring_events={ring_events}");
        println!("published={} dropped_by_rate_limit={}", ring.published.load(Ordering::Relaxed), ring.dropped.load(Ordering::Relaxed));
        #[allow(clippy::cast_precision_loss)]
        let per_sec = delivered as f64 / secs;
        println!("delivered={delivered} of {expected} expected ({per_sec:.0}/s), gaps={} subscribers_dropped={}", stats.gaps.load(Ordering::Relaxed), ring.subscribers_dropped.load(Ordering::Relaxed));
        println!("latency_ms p50={} p99={} max={}", stats.percentile(0.50), stats.percentile(0.99), stats.max_us.load(Ordering::Relaxed) / 1000);
        println!("rss_mb start={} samples={:?} peak={}", rss_start / 1024, rss_samples, rss_kb("VmHWM:") / 1024);
        let _ = std::fs::remove_dir_all(&dir);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Args {
        parse(&a.iter().map(ToString::to_string).collect::<Vec<_>>())
    }

    #[test]
    fn help_and_bad_arguments_run_no_load() {
        assert_eq!(args(&["--help"]), Args::Help);
        assert_eq!(args(&["--seconds", "5", "-h"]), Args::Help);
        assert_eq!(
            args(&["--bogus"]),
            Args::Bad("unknown argument `--bogus`".into())
        );
        assert!(matches!(args(&["--rate", "fast"]), Args::Bad(_)));
        assert!(matches!(args(&["--rate"]), Args::Bad(_)));
        let Args::Run(l) = args(&["--seconds", "5", "--filtered", "--via-store"]) else {
            panic!("not a run");
        };
        assert_eq!(
            (l.seconds, l.subscribers, l.filtered, l.via_store),
            (5, 1000, true, true)
        );
    }
}
