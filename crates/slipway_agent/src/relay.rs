//! From the shared store into this agent's ring. The engine writes every event
//! (phases, progress, drift) to the store before anything else sees it, and the agent
//! writes each operation's `result` there too. This relay is the one path by which
//! those events reach the ring. So subscribers of any agent on a store see, exactly
//! once and in store order, the events of operations run by this agent, by another
//! agent on the same database, or by the CLI, under the store's sequence numbers.
//!
//! Each event on the ring is `{"operation_id": …, "data": …}` under its kind and
//! deployment id ([`Frame::stored`]). Over the publish limit the relay stops and
//! leaves the rest in the store for its next poll: events are delayed, never dropped.

use crate::events::{Frame, Ring};
use crate::AppState;
use serde_json::json;
use slipway_engine::{Store, StoreError};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How often the store is asked for new events.
pub const POLL: Duration = Duration::from_millis(100);
const BATCH: usize = 1000;

/// Puts the store's events after `after` on `ring`, as many as the publish limit
/// allows now; returns the new cursor (the last event put on the ring).
pub fn relay_once(store: &dyn Store, ring: &Ring, after: i64) -> Result<i64, StoreError> {
    let mut cursor = after;
    let limit = ring.config().max_message_bytes;
    loop {
        let batch = store.events(None, cursor, BATCH)?;
        let granted = ring.grant(batch.len());
        for e in &batch[..granted] {
            ring.push(Arc::new(Frame::stored(
                e.seq,
                e.at,
                &e.kind,
                &e.deployment_id,
                e.operation_id.as_deref(),
                &e.data,
                limit,
            )));
            cursor = e.seq;
        }
        if let (Some(first), Some(last)) = (batch.get(granted), batch.last()) {
            let seq = |s: i64| u64::try_from(s).unwrap_or(0);
            ring.note_delayed(seq(first.seq), seq(last.seq));
            return Ok(cursor);
        }
        if batch.len() < BATCH {
            return Ok(cursor);
        }
    }
}

/// Starts the ring at store sequence `start` (at once, so the first subscriber's
/// "now" is the store's), then relays every [`POLL`] until the ring closes. A store
/// error is logged (at most once until the store answers again) and the next poll
/// retries.
pub fn run(state: Arc<AppState>, start: i64) -> impl Future<Output = ()> + Send + 'static {
    state.ring.begin_at(u64::try_from(start).unwrap_or(0));
    relay(state, start)
}

async fn relay(state: Arc<AppState>, start: i64) {
    let mut cursor = start;
    let mut failing = false;
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !state.ring.is_closed() {
        tick.tick().await;
        let (store, ring) = (state.store.clone(), state.ring.clone());
        let step = tokio::task::spawn_blocking(move || relay_once(&*store, &ring, cursor)).await;
        match step {
            Ok(Ok(next)) => {
                cursor = next;
                failing = false;
            }
            Ok(Err(e)) if !failing => {
                failing = true;
                state.log(
                    "warn",
                    &format!("cannot read events from the store: {e}"),
                    &json!({ "stage": "events" }),
                );
            }
            _ => {}
        }
    }
}

/// How often old events are pruned from the store.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Deletes events older than the configured retention from the store, at start and
/// then hourly, until the ring closes. Progress events are for watching; the audit
/// log, which is the record, is never pruned.
pub async fn prune(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(PRUNE_EVERY);
    while !state.ring.is_closed() {
        tick.tick().await;
        let keep_ms = i64::try_from(state.cfg.event_retention.as_millis()).unwrap_or(i64::MAX);
        let before = slipway_engine::now_ms().saturating_sub(keep_ms);
        let store = state.store.clone();
        match tokio::task::spawn_blocking(move || store.prune_events(before)).await {
            Ok(Ok(n)) if n > 0 => state.log(
                "info",
                "pruned old events",
                &json!({ "stage": "events", "deleted": n }),
            ),
            Ok(Err(e)) => state.log(
                "warn",
                &format!("cannot prune old events: {e}"),
                &json!({ "stage": "events" }),
            ),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::RingConfig;
    use serde_json::Value;
    use slipway_engine::NewEvent;

    #[test]
    fn events_of_two_writers_reach_the_ring_once_in_store_order() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/state.db", dir.path().display());
        // Two handles on one file: this agent's, and another process's.
        let mine = slipway_engine::open_store(&url, dir.path()).unwrap();
        let other = slipway_engine::open_store(&url, dir.path()).unwrap();
        let ring = Ring::new(RingConfig::default());
        let put = |s: &dyn Store, dep: &str, n: i64| {
            s.append_event(
                &NewEvent {
                    deployment_id: dep,
                    operation_id: Some("op-1"),
                    kind: "phase",
                    data: &json!({ "n": n }).to_string(),
                },
                n,
            )
            .unwrap()
        };
        put(&*mine, "old", 0);
        let start = mine.last_event_seq().unwrap();
        put(&*mine, "a", 1);
        put(&*other, "b", 2);
        put(&*mine, "a", 3);
        ring.begin_at(1);
        let cursor = relay_once(&*mine, &ring, start).unwrap();
        assert_eq!(cursor, 4);
        let read = ring.read_after(1, None, 100);
        let seen: Vec<(u64, Option<String>, i64, i64)> = read
            .frames
            .iter()
            .map(|f| {
                let v: Value = serde_json::from_slice(&f.json).unwrap();
                (
                    v["seq"].as_u64().unwrap(),
                    v["deployment_id"].as_str().map(str::to_string),
                    v["data"]["data"]["n"].as_i64().unwrap(),
                    v["at"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (2, Some("a".into()), 1, 1),
                (3, Some("b".into()), 2, 2),
                (4, Some("a".into()), 3, 3)
            ],
            "events from before the start are not replayed; the others come once, in order"
        );
        assert_eq!(relay_once(&*mine, &ring, cursor).unwrap(), cursor);
        assert_eq!(ring.read_after(1, None, 100).frames.len(), 3);
    }

    #[test]
    fn over_the_publish_limit_events_are_delayed_not_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/state.db", dir.path().display());
        let store = slipway_engine::open_store(&url, dir.path()).unwrap();
        for n in 0..25 {
            let e = NewEvent {
                deployment_id: "a",
                operation_id: None,
                kind: "progress",
                data: &json!({ "n": n }).to_string(),
            };
            store.append_event(&e, n).unwrap();
        }
        let ring = Ring::new(RingConfig {
            publish_per_sec: 10,
            ..RingConfig::default()
        });
        let cursor = relay_once(&*store, &ring, 0).unwrap();
        assert_eq!(cursor, 10, "one second's burst now");
        assert_eq!(ring.delayed.load(std::sync::atomic::Ordering::Relaxed), 15);
        std::thread::sleep(Duration::from_millis(1600));
        let cursor = relay_once(&*store, &ring, cursor).unwrap();
        assert_eq!(cursor, 20, "the rest follows as the limit allows");
        let seqs: Vec<u64> = ring
            .read_after(0, None, 100)
            .frames
            .iter()
            .map(|f| f.seq)
            .collect();
        assert_eq!(seqs, (1..=20).collect::<Vec<_>>(), "none skipped");
        assert_eq!(ring.dropped.load(std::sync::atomic::Ordering::Relaxed), 0);
        assert_eq!(
            ring.delayed.load(std::sync::atomic::Ordering::Relaxed),
            15,
            "each delayed event counted once"
        );
    }
}
