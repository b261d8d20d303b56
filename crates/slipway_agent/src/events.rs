//! The live event stream's ring: the newest events in memory, one per agent, bounded by
//! count and bytes. Each event is serialized once (its JSON envelope and its SSE frame
//! are shared `Bytes`), so fanning it out costs no copies.
//!
//! Every event's id is its sequence number in the store (table `events`): the SSE
//! `id:`, the WebSocket envelope's `seq` and the long-poll `after=` cursor. So an id
//! means the same event on every agent sharing the store and after any restart. The
//! ring is a cache of the store's tail: every stored event after `floor` is on it.
//! A subscriber whose cursor is older than the ring holds is caught up from the store
//! (see [`feed`]); only events the store no longer holds (pruned by retention) are
//! lost, and the subscriber is told so by a `gap` frame giving how many and which
//! sequence numbers. Nothing is dropped silently:
//!
//! - The publish limit (`publish_per_sec`, a token bucket with a one-second burst)
//!   delays events instead of dropping them: the relay leaves the rest in the store
//!   and moves them onto the ring on a later poll ([`Ring::grant`]).
//! - Evicting old events (count or bytes) only moves `floor`: a subscriber behind it
//!   reads the store.
//! - A subscriber that stops reading for `stall` is disconnected (its client resumes
//!   with `Last-Event-ID`), never skipped ahead.
//!
//! Control frames (`gap`, SSE keep-alive comments, WebSocket pings) carry no id.
//! Depends on no HTTP type: transports are in [`transport`].

pub mod feed;
pub mod transport;

use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct RingConfig {
    pub max_events: usize,
    pub max_bytes: usize,
    pub max_subscribers: usize,
    pub max_message_bytes: usize,
    pub publish_per_sec: u32,
    /// How often an idle SSE stream gets a keep-alive comment and a WebSocket a ping;
    /// a WebSocket that answers no ping for this long is closed. Writing to a closed
    /// connection is what frees its subscriber slot when the client vanished.
    pub ping_every: Duration,
}

impl Default for RingConfig {
    fn default() -> Self {
        RingConfig {
            max_events: 1_000_000,
            max_bytes: 256 * 1024 * 1024,
            max_subscribers: 1000,
            max_message_bytes: 16 * 1024,
            publish_per_sec: 10_000,
            ping_every: Duration::from_secs(15),
        }
    }
}

/// One event as subscribers see it.
#[derive(Debug)]
pub struct Frame {
    /// The store's sequence number: the event's id.
    pub seq: u64,
    pub deployment_id: Option<String>,
    /// `{"seq":…,"at":…,"kind":…,"deployment_id":…,"data":…}`
    pub json: Bytes,
    /// `id: SEQ\nevent: KIND\ndata: JSON\n\n`
    pub sse: Bytes,
}

impl Frame {
    /// Serializes an event once; data over `max_bytes` is replaced by a note saying so.
    pub fn new(
        seq: u64,
        at: i64,
        kind: &str,
        deployment_id: Option<&str>,
        data: &Value,
        max_bytes: usize,
    ) -> Frame {
        let mut envelope = json!({ "seq": seq, "at": at, "kind": kind, "deployment_id": deployment_id, "data": data });
        let mut text = envelope.to_string();
        if text.len() > max_bytes {
            envelope["data"] =
                json!({ "truncated": true, "bytes": text.len(), "limit": max_bytes });
            text = envelope.to_string();
        }
        let sse = format!("id: {seq}\nevent: {kind}\ndata: {text}\n\n");
        Frame {
            seq,
            deployment_id: deployment_id.map(str::to_string),
            json: Bytes::from(text),
            sse: Bytes::from(sse),
        }
    }

    /// A stored event: `{"operation_id": …, "data": …}` under its kind and deployment
    /// id. The same bytes whether it comes from the ring or straight from the store.
    pub fn stored(
        seq: i64,
        at: i64,
        kind: &str,
        deployment_id: &str,
        operation_id: Option<&str>,
        data: &str,
        max_bytes: usize,
    ) -> Frame {
        let data: Value =
            serde_json::from_str(data).unwrap_or_else(|_| Value::String(data.to_string()));
        Frame::new(
            u64::try_from(seq).unwrap_or(0),
            at,
            kind,
            Some(deployment_id),
            &json!({ "operation_id": operation_id, "data": data }),
            max_bytes,
        )
    }

    fn size(&self) -> usize {
        self.json.len() + self.sse.len()
    }
}

/// Events a subscriber missed for good: sequence numbers `from..=to`, `lost` of them
/// (with a deployment filter, at most that many were that deployment's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub from: u64,
    pub to: u64,
    pub lost: u64,
}

impl Gap {
    /// What a subscriber at `cursor`, behind the ring, can no longer get: the events
    /// before the first one the store still holds after the cursor (`first_stored`),
    /// and none the ring still holds (the ring has every event after `floor`).
    pub fn of(cursor: u64, first_stored: Option<u64>, floor: u64) -> Option<Gap> {
        let to = first_stored.map_or(floor, |f| f.saturating_sub(1).min(floor));
        (to > cursor).then_some(Gap {
            from: cursor + 1,
            to,
            lost: to - cursor,
        })
    }

    /// `{"kind":"gap","data":{…}}`: no `seq`, it is not an event.
    pub fn json(&self) -> Bytes {
        Bytes::from(
            json!({ "kind": "gap", "data": {
                "reason": "these events were pruned from the store before this subscriber read them; re-read /status",
                "lost": self.lost, "from": self.from, "to": self.to, "resume_after": self.to,
            } })
            .to_string(),
        )
    }

    /// `event: gap` with no `id:`, so a client's `Last-Event-ID` stays an event's.
    pub fn sse(&self) -> Bytes {
        let json = self.json();
        let mut b = Vec::with_capacity(json.len() + 20);
        b.extend_from_slice(b"event: gap\ndata: ");
        b.extend_from_slice(&json);
        b.extend_from_slice(b"\n\n");
        Bytes::from(b)
    }
}

struct Inner {
    frames: VecDeque<Arc<Frame>>,
    bytes: usize,
    /// Every stored event after `floor` and up to `last` is on the ring.
    floor: u64,
    last: u64,
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
    /// Store events the publish limit held back for a later poll, each counted once.
    pub delayed: AtomicU64,
    delayed_up_to: AtomicU64,
    /// Events of [`Ring::publish`] refused by the publish limit (never store events).
    pub dropped: AtomicU64,
    pub subscribers_dropped: AtomicU64,
    closed: AtomicBool,
}

/// What a reader at a cursor gets from the ring.
pub struct Read {
    pub frames: Vec<Arc<Frame>>,
    /// The sequence to continue after.
    pub cursor: u64,
    /// The cursor is older than the ring holds: read the store from it up to `floor`.
    pub behind: bool,
    pub floor: u64,
}

impl Ring {
    pub fn new(cfg: RingConfig) -> Ring {
        let burst = f64::from(cfg.publish_per_sec);
        Ring {
            cfg,
            inner: Mutex::new(Inner {
                frames: VecDeque::new(),
                bytes: 0,
                floor: 0,
                last: 0,
                tokens: burst,
                refilled: Instant::now(),
            }),
            latest: watch::channel(0).0,
            subscribers: AtomicUsize::new(0),
            published: AtomicU64::new(0),
            delayed: AtomicU64::new(0),
            delayed_up_to: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            subscribers_dropped: AtomicU64::new(0),
            closed: AtomicBool::new(false),
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

    /// Starts an empty ring at store sequence `seq`: "now" for new subscribers, and
    /// older cursors are read from the store.
    pub fn begin_at(&self, seq: u64) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.frames.is_empty() && inner.last < seq {
            inner.floor = seq;
            inner.last = seq;
            drop(inner);
            self.latest.send_replace(seq);
        }
    }

    /// How many of `n` events may be published now under the publish limit; the
    /// caller keeps the rest for later.
    pub fn grant(&self, n: usize) -> usize {
        let Ok(mut inner) = self.inner.lock() else {
            return 0;
        };
        let rate = f64::from(self.cfg.publish_per_sec);
        inner.tokens = (inner.tokens + inner.refilled.elapsed().as_secs_f64() * rate).min(rate);
        inner.refilled = Instant::now();
        // The bucket holds at most `publish_per_sec` (a u32) tokens, never negative.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let g = (inner.tokens.floor() as usize).min(n);
        #[allow(clippy::cast_precision_loss)]
        let spent = g as f64;
        inner.tokens -= spent;
        g
    }

    /// Notes that the publish limit held back store events up to `seq`.
    pub fn note_delayed(&self, from: u64, to: u64) {
        let before = self.delayed_up_to.fetch_max(to, Ordering::Relaxed);
        let counted_from = from.max(before + 1);
        if to >= counted_from {
            self.delayed
                .fetch_add(to - counted_from + 1, Ordering::Relaxed);
        }
    }

    /// Appends a store event (the relay's path; the publish limit is the caller's).
    /// An event at or before the last one is ignored.
    pub fn push(&self, frame: Arc<Frame>) -> bool {
        let Ok(mut inner) = self.inner.lock() else {
            return false;
        };
        let seq = frame.seq;
        if !self.append(&mut inner, frame) {
            return false;
        }
        drop(inner);
        self.latest.send_replace(seq);
        true
    }

    /// Publishes an event that is not in the store, numbered after the last one
    /// (in-process publishers: the load generator). `None` when the publish limit
    /// refused it; it then has no number and no subscriber misses it.
    pub fn publish(&self, kind: &str, deployment_id: Option<&str>, data: &Value) -> Option<u64> {
        if self.grant(1) == 0 {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return None;
        };
        let seq = inner.last + 1;
        let at = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis()),
        )
        .unwrap_or(i64::MAX);
        let frame = Frame::new(
            seq,
            at,
            kind,
            deployment_id,
            data,
            self.cfg.max_message_bytes,
        );
        self.append(&mut inner, Arc::new(frame));
        drop(inner);
        self.latest.send_replace(seq);
        Some(seq)
    }

    fn append(&self, inner: &mut Inner, frame: Arc<Frame>) -> bool {
        if frame.seq <= inner.last {
            return false;
        }
        inner.last = frame.seq;
        inner.bytes += frame.size();
        inner.frames.push_back(frame);
        while inner.frames.len() > self.cfg.max_events || inner.bytes > self.cfg.max_bytes {
            let Some(old) = inner.frames.pop_front() else {
                break;
            };
            inner.bytes -= old.size();
            inner.floor = old.seq;
        }
        self.published.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// The last sequence on the ring.
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
                cursor: after,
                behind: false,
                floor: 0,
            };
        };
        let mut read = Read {
            frames: Vec::new(),
            cursor: after,
            behind: after < inner.floor,
            floor: inner.floor,
        };
        if read.behind {
            return read;
        }
        // Sequence numbers rise but may skip (pruned events), so search, not index.
        let start = inner.frames.partition_point(|f| f.seq <= after);
        for f in inner.frames.range(start..) {
            read.cursor = f.seq;
            if filter.is_none_or(|d| f.deployment_id.as_deref() == Some(d)) {
                read.frames.push(f.clone());
                if read.frames.len() >= max {
                    break;
                }
            }
        }
        read
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
            ping_every: Duration::from_secs(15),
        })
    }

    fn stored(seq: i64, dep: &str) -> Arc<Frame> {
        Arc::new(Frame::stored(
            seq,
            7,
            "progress",
            dep,
            Some("op-1"),
            "{}",
            200,
        ))
    }

    fn seqs(read: &Read) -> Vec<u64> {
        read.frames.iter().map(|f| f.seq).collect()
    }

    #[test]
    fn ids_are_store_sequences_and_a_cursor_behind_the_ring_is_sent_to_the_store() {
        let r = ring(3, 100);
        r.begin_at(257);
        assert_eq!(
            r.last_seq(),
            257,
            "a new ring starts at the store's last event"
        );
        for seq in [258, 259, 261, 262] {
            assert!(r.push(stored(seq, if seq % 2 == 0 { "a" } else { "b" })));
        }
        assert!(!r.push(stored(262, "a")), "an event is on the ring once");
        // 258 was evicted (3 events kept): the ring has everything after 258.
        let read = r.read_after(257, None, 10);
        assert!(read.behind && read.frames.is_empty());
        assert_eq!(read.floor, 258);
        let read = r.read_after(258, None, 10);
        assert!(!read.behind);
        assert_eq!(
            seqs(&read),
            vec![259, 261, 262],
            "ids are the store's, holes kept"
        );
        let read = r.read_after(259, Some("a"), 10);
        assert_eq!((seqs(&read), read.cursor), (vec![262], 262));
        let read = r.read_after(258, None, 1);
        assert_eq!(
            (seqs(&read), read.cursor),
            (vec![259], 259),
            "at most `max`"
        );
        let read = r.read_after(262, None, 10);
        assert!(read.frames.is_empty() && !read.behind);
    }

    #[test]
    fn a_gap_counts_what_neither_the_store_nor_the_ring_holds() {
        // The store pruned up to 299; the ring holds everything after 400.
        assert_eq!(
            Gap::of(257, Some(300), 400),
            Some(Gap {
                from: 258,
                to: 299,
                lost: 42
            }),
            "first available seq minus cursor minus one"
        );
        assert_eq!(Gap::of(257, Some(258), 400), None, "nothing pruned");
        // Nothing in the store after the cursor (events published past the store):
        // everything up to the ring's floor is gone.
        assert_eq!(
            Gap::of(10, None, 15),
            Some(Gap {
                from: 11,
                to: 15,
                lost: 5
            })
        );
        // The store lost events the ring still holds: only those before the floor count.
        assert_eq!(
            Gap::of(10, Some(50), 20),
            Some(Gap {
                from: 11,
                to: 20,
                lost: 10
            })
        );
        let g = Gap::of(1, Some(4), 9).unwrap();
        let sse = String::from_utf8(g.sse().to_vec()).unwrap();
        assert!(
            sse.starts_with("event: gap\ndata: {") && !sse.contains("id:"),
            "{sse}"
        );
        let v: Value = serde_json::from_slice(&g.json()).unwrap();
        assert_eq!(
            (
                &v["data"]["lost"],
                &v["data"]["from"],
                &v["data"]["to"],
                &v["seq"]
            ),
            (&json!(2), &json!(2), &json!(3), &Value::Null)
        );
    }

    #[test]
    fn frames_are_serialized_once_and_bounded() {
        let r = ring(10, 100);
        r.push(Arc::new(Frame::stored(
            41,
            5,
            "progress",
            "a",
            None,
            &json!({ "big": "x".repeat(500) }).to_string(),
            200,
        )));
        let f = &r.read_after(0, None, 1).frames[0];
        assert!(f.json.len() <= 200, "an oversized message is truncated");
        assert!(std::str::from_utf8(&f.sse)
            .unwrap()
            .starts_with("id: 41\nevent: progress\ndata: {"));
        let v: Value = serde_json::from_slice(&f.json).unwrap();
        assert_eq!((&v["seq"], &v["at"]), (&json!(41), &json!(5)));
    }

    #[test]
    fn the_publish_limit_grants_and_delays_and_subscribers_are_bounded() {
        let r = Arc::new(ring(10, 3));
        assert_eq!(r.grant(5), 3, "one second's burst");
        assert_eq!(r.grant(5), 0);
        r.note_delayed(4, 5);
        r.note_delayed(4, 6);
        assert_eq!(
            r.delayed.load(Ordering::Relaxed),
            3,
            "each delayed event once"
        );
        assert!(r.publish("x", None, &json!(null)).is_none());
        assert_eq!(r.dropped.load(Ordering::Relaxed), 1);
        let a = subscribe(&r).unwrap();
        let _b = subscribe(&r).unwrap();
        assert!(subscribe(&r).is_none());
        drop(a);
        assert!(subscribe(&r).is_some());
    }

    #[test]
    fn in_process_publishing_numbers_after_the_last_event() {
        let r = ring(10, 100);
        r.begin_at(5);
        assert_eq!(r.publish("x", None, &json!(1)), Some(6));
        assert_eq!(r.publish("x", None, &json!(2)), Some(7));
        assert_eq!(seqs(&r.read_after(5, None, 10)), vec![6, 7]);
    }
}
