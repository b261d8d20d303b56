//! The live event stream: one ring buffer per agent, bounded by count and bytes. Each
//! event is serialized once (its JSON envelope and its SSE frame are shared `Bytes`);
//! subscribers read the ring at their own pace from their own task, so a slow one
//! never slows another. One that falls behind the ring gets a `gap` event (re-read
//! `/status`); one that stops reading is dropped. Only the agent publishes, at most
//! `publish_per_sec` events a second; more are counted as dropped.

use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

#[derive(Debug, Clone)]
pub struct RingConfig {
    pub max_events: usize,
    pub max_bytes: usize,
    pub max_subscribers: usize,
    pub max_message_bytes: usize,
    pub publish_per_sec: u32,
}

impl Default for RingConfig {
    fn default() -> Self {
        RingConfig {
            max_events: 1_000_000,
            max_bytes: 256 * 1024 * 1024,
            max_subscribers: 1000,
            max_message_bytes: 16 * 1024,
            publish_per_sec: 10_000,
        }
    }
}

/// One published event.
#[derive(Debug)]
pub struct Frame {
    pub seq: u64,
    pub deployment_id: Option<String>,
    /// `{"seq":…,"at":…,"kind":…,"deployment_id":…,"data":…}`
    pub json: Bytes,
    /// `id: SEQ\nevent: KIND\ndata: JSON\n\n`
    pub sse: Bytes,
}

struct Inner {
    frames: VecDeque<Arc<Frame>>,
    bytes: usize,
    next_seq: u64,
    /// Token bucket for the publish rate: up to one second's worth of burst.
    tokens: f64,
    refilled: Instant,
}

pub struct Ring {
    cfg: RingConfig,
    inner: Mutex<Inner>,
    latest: watch::Sender<u64>,
    pub subscribers: AtomicUsize,
    pub published: AtomicU64,
    pub dropped: AtomicU64,
    pub subscribers_dropped: AtomicU64,
    closed: std::sync::atomic::AtomicBool,
}

/// What a reader gets: frames after its cursor, and whether it missed some.
pub struct Read {
    pub frames: Vec<Arc<Frame>>,
    /// The oldest frames it had not read were evicted before it read them.
    pub gap: bool,
    /// The sequence to continue after.
    pub cursor: u64,
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

impl Ring {
    pub fn new(cfg: RingConfig) -> Ring {
        let burst = f64::from(cfg.publish_per_sec);
        Ring {
            cfg,
            inner: Mutex::new(Inner {
                frames: VecDeque::new(),
                bytes: 0,
                next_seq: 1,
                tokens: burst,
                refilled: Instant::now(),
            }),
            latest: watch::channel(0).0,
            subscribers: AtomicUsize::new(0),
            published: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            subscribers_dropped: AtomicU64::new(0),
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Ends every subscriber's stream (shutdown).
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.latest.send_modify(|_| {});
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    pub fn config(&self) -> &RingConfig {
        &self.cfg
    }

    /// Publishes one event; `None` when the publish rate limit dropped it.
    pub fn publish(&self, kind: &str, deployment_id: Option<&str>, data: &Value) -> Option<u64> {
        let Ok(mut inner) = self.inner.lock() else {
            return None;
        };
        let rate = f64::from(self.cfg.publish_per_sec);
        inner.tokens = (inner.tokens + inner.refilled.elapsed().as_secs_f64() * rate).min(rate);
        inner.refilled = Instant::now();
        if inner.tokens < 1.0 {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        inner.tokens -= 1.0;
        let seq = inner.next_seq;
        let mut envelope = json!({ "seq": seq, "at": now_ms(), "kind": kind, "deployment_id": deployment_id, "data": data });
        let mut text = envelope.to_string();
        if text.len() > self.cfg.max_message_bytes {
            envelope["data"] = json!({ "truncated": true, "bytes": text.len(), "limit": self.cfg.max_message_bytes });
            text = envelope.to_string();
        }
        let sse = format!("id: {seq}\nevent: {kind}\ndata: {text}\n\n");
        let frame = Arc::new(Frame {
            seq,
            deployment_id: deployment_id.map(str::to_string),
            json: Bytes::from(text),
            sse: Bytes::from(sse),
        });
        inner.bytes += frame.json.len() + frame.sse.len();
        inner.frames.push_back(frame);
        inner.next_seq += 1;
        while inner.frames.len() > self.cfg.max_events || inner.bytes > self.cfg.max_bytes {
            if let Some(old) = inner.frames.pop_front() {
                inner.bytes -= old.json.len() + old.sse.len();
            }
        }
        drop(inner);
        self.published.fetch_add(1, Ordering::Relaxed);
        self.latest.send_replace(seq);
        Some(seq)
    }

    /// The last sequence published.
    pub fn last_seq(&self) -> u64 {
        *self.latest.borrow()
    }

    pub fn watch(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    /// Up to `max` frames after `after`, matching `filter` (a deployment id).
    pub fn read_after(&self, after: u64, filter: Option<&str>, max: usize) -> Read {
        let Ok(inner) = self.inner.lock() else {
            return Read {
                frames: Vec::new(),
                gap: false,
                cursor: after,
            };
        };
        // A cursor from the future (another agent's, or made up) means "from now".
        let after = after.min(inner.next_seq - 1);
        let first = inner.frames.front().map_or(inner.next_seq, |f| f.seq);
        let gap = after + 1 < first && after < inner.next_seq - 1;
        let start = if after + 1 < first {
            0
        } else {
            usize::try_from(after + 1 - first).unwrap_or(usize::MAX)
        };
        let mut frames = Vec::new();
        let mut cursor = if gap { first - 1 } else { after };
        for f in inner.frames.iter().skip(start) {
            cursor = f.seq;
            if filter.is_none_or(|d| f.deployment_id.as_deref() == Some(d)) {
                frames.push(f.clone());
                if frames.len() >= max {
                    break;
                }
            }
        }
        Read {
            frames,
            gap,
            cursor,
        }
    }
}

/// A subscriber slot; given back when dropped.
pub struct Slot(Arc<Ring>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.subscribers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Takes a subscriber slot, or `None` at the limit.
pub fn subscribe(ring: &Arc<Ring>) -> Option<Slot> {
    let n = ring.subscribers.fetch_add(1, Ordering::SeqCst);
    if n >= ring.cfg.max_subscribers {
        ring.subscribers.fetch_sub(1, Ordering::SeqCst);
        return None;
    }
    Some(Slot(ring.clone()))
}

fn gap_frame(cursor: u64) -> Bytes {
    let data = json!({ "kind": "gap", "data": { "reason": "this subscriber fell behind the event ring; re-read /status and resume", "resume_after": cursor } });
    Bytes::from(format!("event: gap\ndata: {data}\n\n"))
}

/// How an encoded frame reaches one subscriber.
#[derive(Clone, Copy)]
pub enum Encoding {
    Sse,
    Json,
}

/// Feeds one subscriber from the ring until it disconnects or stops reading for
/// `stall` (then it is dropped).
pub async fn pump(
    ring: Arc<Ring>,
    slot: Slot,
    tx: mpsc::Sender<Bytes>,
    mut cursor: u64,
    filter: Option<String>,
    encoding: Encoding,
    stall: Duration,
) {
    let _slot = slot;
    let mut latest = ring.watch();
    loop {
        if ring.is_closed() {
            return;
        }
        let read = ring.read_after(cursor, filter.as_deref(), 256);
        if read.gap {
            let g = match encoding {
                Encoding::Sse => gap_frame(read.cursor),
                Encoding::Json => Bytes::from(
                    json!({ "kind": "gap", "data": { "resume_after": read.cursor } }).to_string(),
                ),
            };
            if tx.send_timeout(g, stall).await.is_err() {
                ring.subscribers_dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        for f in &read.frames {
            let b = match encoding {
                Encoding::Sse => f.sse.clone(),
                Encoding::Json => f.json.clone(),
            };
            if tx.send_timeout(b, stall).await.is_err() {
                ring.subscribers_dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        cursor = read.cursor;
        if read.frames.is_empty() && !read.gap {
            if *latest.borrow_and_update() > cursor || ring.is_closed() {
                continue;
            }
            match tokio::time::timeout(Duration::from_secs(15), latest.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return,
                Err(_) => {
                    if let Encoding::Sse = encoding {
                        if tx
                            .send_timeout(Bytes::from_static(b": keepalive\n\n"), stall)
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                }
            }
        }
        if tx.is_closed() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(max_events: usize, rate: u32) -> Ring {
        Ring::new(RingConfig {
            max_events,
            max_bytes: usize::MAX,
            max_subscribers: 2,
            max_message_bytes: 200,
            publish_per_sec: rate,
        })
    }

    #[test]
    fn readers_resume_after_a_cursor_and_learn_of_gaps() {
        let r = ring(3, 100);
        for n in 0..5 {
            r.publish(
                "progress",
                Some(if n % 2 == 0 { "a" } else { "b" }),
                &json!({ "n": n }),
            );
        }
        let read = r.read_after(0, None, 10);
        assert!(read.gap, "seq 1 and 2 were evicted");
        assert_eq!(
            read.frames.iter().map(|f| f.seq).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
        let read = r.read_after(3, None, 10);
        assert!(!read.gap);
        assert_eq!(read.frames.len(), 2);
        let read = r.read_after(2, Some("a"), 10);
        assert_eq!(
            read.frames.iter().map(|f| f.seq).collect::<Vec<_>>(),
            vec![3, 5]
        );
        assert_eq!(r.read_after(5, None, 10).frames.len(), 0);
        assert!(!r.read_after(5, None, 10).gap);
    }

    #[test]
    fn frames_are_serialized_once_and_bounded() {
        let r = ring(10, 100);
        r.publish("progress", None, &json!({ "big": "x".repeat(500) }));
        let f = &r.read_after(0, None, 1).frames[0];
        assert!(f.json.len() <= 200, "an oversized message is truncated");
        assert!(std::str::from_utf8(&f.sse)
            .unwrap()
            .starts_with("id: 1\nevent: progress\ndata: {"));
    }

    #[test]
    fn publishing_is_rate_limited_and_subscribers_bounded() {
        let r = Arc::new(ring(10, 3));
        let published = (0..5)
            .filter(|_| r.publish("x", None, &json!(null)).is_some())
            .count();
        assert_eq!(published, 3);
        assert_eq!(r.dropped.load(Ordering::Relaxed), 2);
        let a = subscribe(&r).unwrap();
        let _b = subscribe(&r).unwrap();
        assert!(subscribe(&r).is_none());
        drop(a);
        assert!(subscribe(&r).is_some());
    }
}
