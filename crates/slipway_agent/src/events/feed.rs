//! One subscriber's position in the event stream, and the task that feeds it. A feed
//! reads the ring while its cursor is within what the ring holds, and the store when
//! it is older (a resume after a restart, from another agent, or after falling behind
//! the ring). Events the store no longer holds come out as one [`Gap`]. Used by every
//! transport (SSE, WebSocket, long-poll); knows no HTTP.

use super::{Frame, Gap, Ring, Slot};
use bytes::Bytes;
use slipway_engine::Store;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// What a feed has next.
pub enum Step {
    /// Events after the cursor (possibly none, when only the cursor moved on).
    Frames(Vec<Arc<Frame>>),
    /// Events that are gone for good; the cursor is now past them.
    Gap(Gap),
    /// Nothing newer than the cursor yet: wait for the ring to move.
    Idle,
}

/// The store could not be read; the subscriber should resume later.
#[derive(Debug, thiserror::Error)]
#[error("cannot read events from the store: {0}")]
pub struct FeedError(String);

pub struct Feed {
    ring: Arc<Ring>,
    store: Arc<dyn Store>,
    filter: Option<String>,
    cursor: u64,
}

fn seq(s: i64) -> u64 {
    u64::try_from(s).unwrap_or(0)
}

fn at(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX)
}

impl Feed {
    /// A feed after `cursor` (a store sequence), or from now. A cursor past the
    /// store's last event (made up, or from a store since replaced) means now; one
    /// only past this ring's last (another agent relayed sooner) is kept.
    pub async fn new(
        ring: Arc<Ring>,
        store: Arc<dyn Store>,
        filter: Option<String>,
        cursor: Option<u64>,
    ) -> Result<Feed, FeedError> {
        let now = ring.last_seq();
        let mut cursor = cursor.unwrap_or(now);
        if cursor > now {
            let s = store.clone();
            let stored = tokio::task::spawn_blocking(move || s.last_event_seq())
                .await
                .map_err(|e| FeedError(e.to_string()))?
                .map_err(|e| FeedError(e.to_string()))?;
            cursor = cursor.min(now.max(seq(stored)));
        }
        Ok(Feed {
            ring,
            store,
            filter,
            cursor,
        })
    }

    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Up to `max` events after the cursor, a gap, or [`Step::Idle`]; moves the cursor.
    pub async fn next(&mut self, max: usize) -> Result<Step, FeedError> {
        let read = self
            .ring
            .read_after(self.cursor, self.filter.as_deref(), max);
        if !read.behind {
            let moved = read.cursor > self.cursor;
            self.cursor = read.cursor;
            return Ok(if read.frames.is_empty() && !moved {
                Step::Idle
            } else {
                Step::Frames(read.frames)
            });
        }
        // Older than the ring: the store has them, or they were pruned.
        let (store, filter, after) = (self.store.clone(), self.filter.clone(), at(self.cursor));
        let limit = self.ring.config().max_message_bytes;
        let (first, events) = tokio::task::spawn_blocking(move || {
            let first = store.events(None, after, 1)?.first().map(|e| seq(e.seq));
            let events = store
                .events(filter.as_deref(), after, max)?
                .iter()
                .map(|e| {
                    Arc::new(Frame::stored(
                        e.seq,
                        e.at,
                        &e.kind,
                        &e.deployment_id,
                        e.operation_id.as_deref(),
                        &e.data,
                        limit,
                    ))
                })
                .collect::<Vec<_>>();
            Ok::<_, slipway_engine::StoreError>((first, events))
        })
        .await
        .map_err(|e| FeedError(e.to_string()))?
        .map_err(|e| FeedError(e.to_string()))?;
        if let Some(gap) = Gap::of(self.cursor, first, read.floor) {
            self.cursor = gap.to;
            return Ok(Step::Gap(gap));
        }
        let full = events.len() >= max;
        let last = events.last().map_or(self.cursor, |f| f.seq);
        // A short batch is everything stored after the cursor, and the ring only has
        // stored events, so everything up to the floor has been seen.
        self.cursor = if full { last } else { last.max(read.floor) };
        Ok(Step::Frames(events))
    }
}

/// How an encoded frame reaches one subscriber.
#[derive(Clone, Copy)]
pub enum Encoding {
    Sse,
    Json,
}

/// Feeds one subscriber until its connection goes (the receiver is dropped), the
/// ring closes, the store cannot be read (the client resumes from its last id), or it
/// stops reading for `stall` (then it is dropped). Holds its slot until then. An idle
/// SSE stream gets a keep-alive comment every `ping_every`.
pub async fn pump(
    mut feed: Feed,
    slot: Slot,
    tx: mpsc::Sender<Bytes>,
    encoding: Encoding,
    stall: Duration,
) {
    let _slot = slot;
    let ring = feed.ring.clone();
    let ping_every = ring.config().ping_every;
    let mut latest = ring.watch();
    let send = |b: Bytes| {
        let tx = &tx;
        let ring = &ring;
        async move {
            let sent = tx.send_timeout(b, stall).await.is_ok();
            if !sent && !tx.is_closed() {
                ring.subscribers_dropped.fetch_add(1, Ordering::Relaxed);
            }
            sent
        }
    };
    while !ring.is_closed() && !tx.is_closed() {
        latest.borrow_and_update();
        let Ok(step) = feed.next(256).await else {
            return;
        };
        let frames = match step {
            Step::Frames(frames) => frames,
            Step::Gap(g) => {
                let b = match encoding {
                    Encoding::Sse => g.sse(),
                    Encoding::Json => g.json(),
                };
                if !send(b).await {
                    return;
                }
                continue;
            }
            Step::Idle => {
                tokio::select! {
                    changed = latest.changed() => if changed.is_err() { return },
                    () = tx.closed() => return,
                    () = tokio::time::sleep(ping_every) => {
                        if matches!(encoding, Encoding::Sse)
                            && !send(Bytes::from_static(b": keepalive\n\n")).await
                        {
                            return;
                        }
                    }
                }
                continue;
            }
        };
        for f in &frames {
            let b = match encoding {
                Encoding::Sse => f.sse.clone(),
                Encoding::Json => f.json.clone(),
            };
            if !send(b).await {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{subscribe, RingConfig};
    use serde_json::Value;
    use slipway_engine::NewEvent;

    fn store(dir: &std::path::Path) -> Arc<dyn Store> {
        let url = format!("sqlite://{}/state.db", dir.display());
        slipway_engine::open_store(&url, dir).unwrap()
    }

    fn put(s: &dyn Store, dep: &str, at: i64) -> u64 {
        let e = NewEvent {
            deployment_id: dep,
            operation_id: None,
            kind: "progress",
            data: "{}",
        };
        seq(s.append_event(&e, at).unwrap())
    }

    fn seqs(step: &Step) -> Vec<u64> {
        match step {
            Step::Frames(f) => f.iter().map(|f| f.seq).collect(),
            _ => Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_resume_older_than_the_ring_is_served_from_the_store_then_the_ring() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        for n in 0..5 {
            put(&*s, if n % 2 == 0 { "a" } else { "b" }, 1);
        }
        // A new agent's ring starts at the store's end (5) and relays 6 and 7.
        let ring = Arc::new(Ring::new(RingConfig::default()));
        ring.begin_at(5);
        for _ in 0..2 {
            let n = put(&*s, "a", 1);
            ring.push(Arc::new(Frame::stored(
                at(n),
                1,
                "progress",
                "a",
                None,
                "{}",
                1000,
            )));
        }
        let mut f = Feed::new(ring.clone(), s.clone(), None, Some(2))
            .await
            .unwrap();
        assert_eq!(
            seqs(&f.next(2).await.unwrap()),
            vec![3, 4],
            "from the store"
        );
        assert_eq!(
            seqs(&f.next(10).await.unwrap()),
            vec![5, 6, 7],
            "to its end"
        );
        assert!(
            matches!(f.next(10).await.unwrap(), Step::Idle),
            "then the ring"
        );
        ring.push(Arc::new(Frame::stored(
            8, 1, "progress", "b", None, "{}", 1000,
        )));
        assert_eq!(seqs(&f.next(10).await.unwrap()), vec![8]);
        let mut f = Feed::new(ring.clone(), s.clone(), Some("a".into()), Some(0))
            .await
            .unwrap();
        assert_eq!(seqs(&f.next(2).await.unwrap()), vec![1, 3]);
        assert_eq!(seqs(&f.next(10).await.unwrap()), vec![5, 6, 7]);
        assert_eq!(seqs(&f.next(10).await.unwrap()), Vec::<u64>::new());
        assert_eq!(f.cursor(), 8, "past the other deployment's event");
        // Without a cursor: from now. Past the store's end: from now too.
        assert_eq!(
            Feed::new(ring.clone(), s.clone(), None, None)
                .await
                .unwrap()
                .cursor(),
            8
        );
        assert_eq!(
            Feed::new(ring.clone(), s.clone(), None, Some(9_999))
                .await
                .unwrap()
                .cursor(),
            8
        );
    }

    #[tokio::test]
    async fn pruned_events_come_out_as_one_gap_saying_how_many() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        for at in 1..=10 {
            put(&*s, "a", at);
        }
        s.prune_events(8).unwrap(); // keeps 8, 9, 10
        let ring = Arc::new(Ring::new(RingConfig::default()));
        ring.begin_at(10);
        let mut f = Feed::new(ring, s, None, Some(3)).await.unwrap();
        match f.next(10).await.unwrap() {
            Step::Gap(g) => assert_eq!((g.from, g.to, g.lost), (4, 7, 4)),
            _ => panic!("no gap"),
        }
        assert_eq!(seqs(&f.next(10).await.unwrap()), vec![8, 9, 10]);
    }

    #[tokio::test]
    async fn a_subscriber_is_freed_when_its_connection_goes_even_with_no_events() {
        let dir = tempfile::tempdir().unwrap();
        let ring = Arc::new(Ring::new(RingConfig::default()));
        let feed = Feed::new(ring.clone(), store(dir.path()), None, None)
            .await
            .unwrap();
        let slot = subscribe(&ring).unwrap();
        let (tx, rx) = mpsc::channel(8);
        let task = tokio::spawn(pump(
            feed,
            slot,
            tx,
            Encoding::Json,
            Duration::from_secs(10),
        ));
        assert_eq!(ring.subscribers.load(Ordering::SeqCst), 1);
        drop(rx);
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the pump ends when its receiver is gone")
            .unwrap();
        assert_eq!(ring.subscribers.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn the_pump_sends_a_gap_then_the_events_that_remain() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        for at in 1..=6 {
            put(&*s, "a", at);
        }
        s.prune_events(5).unwrap(); // keeps 5, 6
        let ring = Arc::new(Ring::new(RingConfig::default()));
        ring.begin_at(6);
        let feed = Feed::new(ring.clone(), s, None, Some(1)).await.unwrap();
        let (tx, mut rx) = mpsc::channel(8);
        let slot = subscribe(&ring).unwrap();
        tokio::spawn(pump(
            feed,
            slot,
            tx,
            Encoding::Json,
            Duration::from_secs(10),
        ));
        let mut got = Vec::new();
        for _ in 0..3 {
            let b = rx.recv().await.unwrap();
            let v: Value = serde_json::from_slice(&b).unwrap();
            got.push((
                v["kind"].clone(),
                v["seq"].clone(),
                v["data"]["lost"].clone(),
            ));
        }
        assert_eq!(
            got,
            vec![
                ("gap".into(), Value::Null, 3.into()),
                ("progress".into(), 5.into(), Value::Null),
                ("progress".into(), 6.into(), Value::Null),
            ]
        );
    }
}
