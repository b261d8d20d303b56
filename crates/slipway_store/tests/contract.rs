//! The store contract: one suite, run against SQLite always and against a real
//! PostgreSQL in the full test run (`scripts/setup-test-env.sh` starts one; the URL is
//! `SLIPWAY_TEST_DATABASE_URL`, by default the role and database that script creates).

use slipway_store::{
    verify_chain, Deployment, DriftFinding, DriftScan, GenerateRecord, IdempotencyRecord, Lease,
    NewAudit, NewEvent, Operation, Phase, Release, Store, Transition,
};
use std::sync::Arc;

type Opener = Arc<dyn Fn() -> Box<dyn Store> + Send + Sync>;

fn deployment(id: &str, spec_hash: &str) -> Deployment {
    Deployment {
        id: id.into(),
        project: "shop".into(),
        environment: "prod".into(),
        runtime: "compose".into(),
        target: "shop/prod/compose".into(),
        spec_hash: spec_hash.into(),
        generator: "slipway 0.1.0".into(),
        spec_path: "/srv/shop/slipway.yaml".into(),
        out_dir: "/srv/shop/infrastructure".into(),
        created_at: 1,
    }
}

fn operation(id: &str, deployment_id: &str, kind: &str) -> Operation {
    Operation {
        id: id.into(),
        deployment_id: deployment_id.into(),
        target: "shop/prod/compose".into(),
        kind: kind.into(),
        phase: Phase::Queued,
        holder: "host:1:1".into(),
        release_id: None,
        error: None,
        detail: "{}".into(),
        created_at: 10,
        updated_at: 10,
    }
}

fn lease(holder: &str, op: &str, expires_at: i64) -> Lease {
    Lease {
        target: "shop/prod/compose".into(),
        holder: holder.into(),
        boot_id: "boot".into(),
        pid: 42,
        operation_id: op.into(),
        deployment_id: "d1".into(),
        acquired_at: 100,
        expires_at,
    }
}

fn to(s: &dyn Store, op: &str, from: &[Phase], to: Phase, at: i64, release: Option<&str>) -> bool {
    s.transition(&Transition {
        operation_id: op,
        from,
        to,
        at,
        error: None,
        release_id: release,
        detail: None,
    })
    .unwrap()
}

fn deployments_and_operations(s: &dyn Store) {
    let d = s.put_deployment(&deployment("d1", "aaa")).unwrap();
    assert_eq!(d.spec_hash, "aaa");
    // The same id again returns what is stored: the caller compares spec hashes.
    let again = s.put_deployment(&deployment("d1", "bbb")).unwrap();
    assert_eq!(
        again.spec_hash, "aaa",
        "an existing deployment is never replaced"
    );
    s.put_deployment(&deployment("d2", "ccc")).unwrap();
    assert!(s.deployment("nope").unwrap().is_none());
    assert_eq!(s.deployments().unwrap().len(), 2);

    s.insert_operation(&operation("op1", "d1", "apply"))
        .unwrap();
    assert!(to(s, "op1", &[Phase::Queued], Phase::Locking, 11, None));
    assert!(
        !to(s, "op1", &[Phase::Queued], Phase::Planning, 12, None),
        "compare and set: the operation is no longer queued"
    );
    assert_eq!(s.operation("op1").unwrap().unwrap().phase, Phase::Locking);
    assert_eq!(s.open_operations().unwrap().len(), 1);
    for (from, next) in [
        (Phase::Locking, Phase::Planning),
        (Phase::Planning, Phase::Applying),
        (Phase::Applying, Phase::Verifying),
        (Phase::Verifying, Phase::Succeeded),
    ] {
        assert!(to(s, "op1", &[from], next, 20, Some("op1")));
    }
    assert!(s.open_operations().unwrap().is_empty());
    let op = s.operation("op1").unwrap().unwrap();
    assert_eq!(
        (op.phase, op.release_id.as_deref()),
        (Phase::Succeeded, Some("op1"))
    );

    s.insert_operation(&operation("op2", "d2", "apply"))
        .unwrap();
    assert!(to(
        s,
        "op2",
        &[Phase::Queued],
        Phase::Failed,
        30,
        Some("op2")
    ));
    assert_eq!(
        s.last_good("shop/prod/compose", None).unwrap().unwrap().id,
        "op1",
        "a failed apply is never the last good one"
    );
    assert!(s.last_good("other/prod/compose", None).unwrap().is_none());
    assert_eq!(s.operations(Some("d1")).unwrap().len(), 1);
    assert_eq!(s.operations(None).unwrap().len(), 2);

    let r = Release {
        id: "op1".into(),
        deployment_id: "d1".into(),
        target: "shop/prod/compose".into(),
        document: "{\"services\":{}}".into(),
        digest: "sha256:1".into(),
        created_at: 5,
    };
    s.put_release(&r).unwrap();
    s.put_release(&r).unwrap();
    assert_eq!(s.release("op1").unwrap().unwrap(), r);
    assert!(
        s.last_good("shop/prod/compose", Some("d1"))
            .unwrap()
            .is_none(),
        "skipping d1 skips every operation that put d1's release on"
    );
    // d2 rolls back to d1's release: that operation is still not a way back from d1.
    s.insert_operation(&operation("op3", "d2", "rollback"))
        .unwrap();
    for (from, next) in [
        (Phase::Queued, Phase::Locking),
        (Phase::Locking, Phase::Applying),
        (Phase::Applying, Phase::Succeeded),
    ] {
        assert!(to(s, "op3", &[from], next, 40, Some("op1")));
    }
    assert!(s
        .last_good("shop/prod/compose", Some("d1"))
        .unwrap()
        .is_none());
    assert_eq!(
        s.last_good("shop/prod/compose", Some("d2"))
            .unwrap()
            .unwrap()
            .id,
        "op3",
        "from d2, the way back is d1's release, whichever operation put it on"
    );
}

fn leases(s: &dyn Store) {
    assert!(s
        .acquire_lease(&lease("a", "op1", 1000), 500, None)
        .unwrap()
        .is_ok());
    let held = s
        .acquire_lease(&lease("b", "op2", 1000), 600, None)
        .unwrap()
        .unwrap_err();
    assert_eq!(
        (held.holder.as_str(), held.operation_id.as_str()),
        ("a", "op1"),
        "the refusal names the holder"
    );
    assert!(s.renew_lease(&lease("a", "op1", 0).as_ref(), 2000).unwrap());
    assert!(!s.renew_lease(&lease("b", "op2", 0).as_ref(), 2000).unwrap());
    // One process runs many operations: its other operation neither takes, renews
    // nor releases the lease of the one that holds the target.
    let sibling = s
        .acquire_lease(&lease("a", "op9", 2000), 700, None)
        .unwrap()
        .unwrap_err();
    assert_eq!(
        sibling.operation_id, "op1",
        "a sibling operation is refused"
    );
    assert!(!s.renew_lease(&lease("a", "op9", 0).as_ref(), 2500).unwrap());
    assert!(!s.release_lease(&lease("a", "op9", 0).as_ref()).unwrap());
    assert_eq!(
        s.lease("shop/prod/compose").unwrap().unwrap().operation_id,
        "op1"
    );
    assert!(
        s.acquire_lease(&lease("b", "op2", 3000), 1500, None)
            .unwrap()
            .is_err(),
        "renewed: not expired yet"
    );
    assert!(
        s.acquire_lease(&lease("b", "op2", 3000), 1500, Some("a"))
            .unwrap()
            .is_ok(),
        "a dead holder can be replaced"
    );
    assert!(
        s.acquire_lease(&lease("c", "op3", 9000), 3001, None)
            .unwrap()
            .is_ok(),
        "an expired lease is taken over"
    );
    assert!(!s.release_lease(&lease("b", "op2", 0).as_ref()).unwrap());
    assert!(s.release_lease(&lease("c", "op3", 0).as_ref()).unwrap());
    assert!(s.lease("shop/prod/compose").unwrap().is_none());
}

fn idempotency_keys(s: &dyn Store) {
    let rec = |key: &str, hash: &str, op: &str, expires_at: i64| IdempotencyRecord {
        key: key.into(),
        request_hash: hash.into(),
        operation_id: op.into(),
        response: "{}".into(),
        created_at: 100,
        expires_at,
    };
    assert!(s
        .put_idempotency(&rec("ci POST /deploy k1", "h1", "op1", 1000), 100)
        .unwrap()
        .is_ok());
    let held = s
        .put_idempotency(&rec("ci POST /deploy k1", "h2", "op2", 1000), 200)
        .unwrap()
        .unwrap_err();
    assert_eq!(held.operation_id, "op1", "the first request keeps its key");
    assert_eq!(
        s.idempotency("ci POST /deploy k1", 500)
            .unwrap()
            .unwrap()
            .request_hash,
        "h1"
    );
    assert!(
        s.idempotency("ci POST /deploy k1", 1000).unwrap().is_none(),
        "expired"
    );
    assert!(
        s.put_idempotency(&rec("ci POST /deploy k1", "h2", "op2", 3000), 1000)
            .unwrap()
            .is_ok(),
        "an expired key is free again"
    );
    s.drop_idempotency("ci POST /deploy k1").unwrap();
    assert!(s.idempotency("ci POST /deploy k1", 1500).unwrap().is_none());
}

fn agent_records(s: &dyn Store) {
    let rec = GenerateRecord {
        deployment_id: "d1".into(),
        request_digest: "h1".into(),
        request: "{\"parameters\":{}}".into(),
        response: "{}".into(),
        created_at: 5,
    };
    assert!(s.put_generate_record(&rec).unwrap().is_ok());
    let other = GenerateRecord {
        request_digest: "h2".into(),
        ..rec.clone()
    };
    assert_eq!(s.put_generate_record(&other).unwrap().unwrap_err(), rec);
    assert_eq!(s.generate_record("d1").unwrap(), Some(rec));
    assert!(s.generate_record("nope").unwrap().is_none());
    assert!(s.log("op1").unwrap().is_none());
    s.append_log("op1", "first\n", 1).unwrap();
    s.append_log("op1", "second\n", 2).unwrap();
    assert_eq!(s.log("op1").unwrap().as_deref(), Some("first\nsecond\n"));
    let big = "x".repeat(slipway_store::LOG_MAX_BYTES);
    s.append_log("op1", &big, 3).unwrap();
    let kept = s.log("op1").unwrap().unwrap();
    assert_eq!(
        kept.len(),
        slipway_store::LOG_MAX_BYTES,
        "the newest part is kept"
    );
}

fn audit_chain(s: &dyn Store) {
    for n in 0..20 {
        let kind = if n % 2 == 0 { "intent" } else { "outcome" };
        s.append_audit(
            &NewAudit {
                deployment_id: "d1",
                operation_id: Some("op1"),
                kind,
                action: "apply",
                actor: "test",
                detail: &format!("{{\"n\":{n}}}"),
            },
            n,
        )
        .unwrap();
    }
    s.append_audit(
        &NewAudit {
            deployment_id: "d2",
            operation_id: None,
            kind: "note",
            action: "adopt",
            actor: "test",
            detail: "{}",
        },
        99,
    )
    .unwrap();
    let all = s.audit(None, 0, 1000).unwrap();
    assert_eq!(all.len(), 21);
    assert_eq!(
        all.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=21).collect::<Vec<_>>()
    );
    verify_chain(&all).unwrap();
    assert_eq!(s.audit(Some("d2"), 0, 10).unwrap().len(), 1);
    assert_eq!(
        s.audit(None, 15, 3)
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect::<Vec<_>>(),
        vec![16, 17, 18],
        "cursor pages"
    );
    let mut tampered = all.clone();
    tampered[4].detail = "{\"n\":400}".into();
    assert!(verify_chain(&tampered).unwrap_err().contains("record 5"));
    let mut dropped = all;
    dropped.remove(3);
    assert!(
        verify_chain(&dropped).is_err(),
        "a removed record breaks the chain"
    );
}

fn drift_and_events(s: &dyn Store) {
    assert!(s.latest_drift_scan("d1").unwrap().is_none());
    let finding = DriftFinding {
        category: "environment".into(),
        subject: "api".into(),
        field: "LOG_LEVEL".into(),
        desired: "sha256:aa".into(),
        observed: "sha256:bb".into(),
        remediation: "slipway deploy".into(),
    };
    for (id, findings) in [
        ("scan1", vec![]),
        ("scan2", vec![finding.clone(), finding.clone()]),
    ] {
        s.put_drift_scan(&DriftScan {
            id: id.into(),
            deployment_id: "d1".into(),
            at: 7,
            findings,
        })
        .unwrap();
    }
    let latest = s.latest_drift_scan("d1").unwrap().unwrap();
    assert_eq!((latest.id.as_str(), latest.findings.len()), ("scan2", 2));
    assert_eq!(latest.findings[0], finding);

    assert_eq!(s.last_event_seq().unwrap(), 0);
    for n in 0..5 {
        let dep = if n == 2 { "d2" } else { "d1" };
        let seq = s
            .append_event(
                &NewEvent {
                    deployment_id: dep,
                    operation_id: Some("op1"),
                    kind: "progress",
                    data: "{}",
                },
                n,
            )
            .unwrap();
        assert_eq!(seq, n + 1);
    }
    assert_eq!(s.events(None, 3, 10).unwrap().len(), 2);
    assert_eq!(s.last_event_seq().unwrap(), 5);
    assert_eq!(s.events(Some("d1"), 0, 10).unwrap().len(), 4);
    // Events were written at 0..=4: those before 3 go; then all but the newest.
    assert_eq!(s.prune_events(3).unwrap(), 3);
    assert_eq!(s.events(None, 0, 10).unwrap().len(), 2);
    assert_eq!(s.prune_events(1_000).unwrap(), 1);
    let left = s.events(None, 0, 10).unwrap();
    assert_eq!(left.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![5]);
    let next = s
        .append_event(
            &NewEvent {
                deployment_id: "d1",
                operation_id: None,
                kind: "progress",
                data: "{}",
            },
            9,
        )
        .unwrap();
    assert_eq!(next, 6, "sequence numbers never restart after a prune");
    assert_eq!(s.events(Some("d1"), 0, 10).unwrap().len(), 2);
}

/// Eight writers, each with its own connection: the chain stays whole and gapless.
fn concurrent_writers(open: &Opener) {
    let before = open().audit(None, 0, 100_000).unwrap().len();
    let handles: Vec<_> = (0..8)
        .map(|w| {
            let open = open.clone();
            std::thread::spawn(move || {
                let s = open();
                for n in 0..15 {
                    s.append_audit(
                        &NewAudit {
                            deployment_id: "d1",
                            operation_id: None,
                            kind: "note",
                            action: "write",
                            actor: &format!("w{w}"),
                            detail: &format!("{{\"n\":{n}}}"),
                        },
                        n,
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let all = open().audit(None, 0, 100_000).unwrap();
    assert_eq!(all.len(), before + 120);
    verify_chain(&all).unwrap();

    // Ten processes' worth of contenders for one lease: exactly one wins.
    let winners: usize = (0..10)
        .map(|w| {
            let open = open.clone();
            std::thread::spawn(move || {
                usize::from(
                    open()
                        .acquire_lease(
                            &lease(&format!("w{w}"), &format!("op{w}"), i64::MAX),
                            0,
                            None,
                        )
                        .unwrap()
                        .is_ok(),
                )
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .sum();
    assert_eq!(winners, 1);
}

fn contract(open: &Opener) {
    let s = open();
    deployments_and_operations(s.as_ref());
    leases(s.as_ref());
    idempotency_keys(s.as_ref());
    agent_records(s.as_ref());
    audit_chain(s.as_ref());
    drift_and_events(s.as_ref());
    // Opening again runs no migration twice and sees the same data.
    assert_eq!(open().deployments().unwrap().len(), 2);
    concurrent_writers(open);
}

#[test]
fn sqlite_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().to_path_buf();
    let open: Opener =
        Arc::new(move || slipway_store::open("sqlite://state/slipway.db", &base).unwrap());
    contract(&open);
    assert_eq!(open().backend(), "sqlite");
    // The audit log refuses edits at the database level too.
    let conn = rusqlite::Connection::open(dir.path().join("state/slipway.db")).unwrap();
    let err = conn
        .execute("UPDATE audit SET detail = '{}' WHERE seq = 1", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    assert!(conn.execute("DELETE FROM audit", []).is_err());
}

#[test]
#[ignore = "needs PostgreSQL (scripts/setup-test-env.sh starts one)"]
fn postgres_store_keeps_the_contract() {
    let url = std::env::var("SLIPWAY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://slipway:slipway@127.0.0.1:5432/slipway_test".into());
    // A schema of its own per run, dropped afterwards.
    let schema = format!(
        "contract_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options=-csearch_path%3D{schema}");
    let open: Opener =
        Arc::new(move || slipway_store::open(&scoped, std::path::Path::new(".")).unwrap());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        contract(&open);
        assert_eq!(open().backend(), "postgres");
    }));
    let mut admin2 = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let refused = admin2.batch_execute(&format!("SET search_path = {schema}; DELETE FROM audit"));
    admin2
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
    drop(admin);
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
    let err = refused.expect_err("DELETE on the audit log must be refused");
    let msg = err
        .as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_default();
    assert!(msg.contains("append-only"), "{err:?}");
}

#[test]
#[ignore = "needs PostgreSQL (scripts/setup-test-env.sh starts one)"]
fn a_wrong_postgres_password_is_named() {
    let url = std::env::var("SLIPWAY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://slipway:slipway@127.0.0.1:5432/slipway_test".into());
    let wrong = url.replacen("slipway:slipway@", "slipway:not-the-password@", 1);
    let err = match slipway_store::open(&wrong, std::path::Path::new(".")) {
        Ok(_) => panic!("a wrong password was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("password authentication failed"), "{err}");
}
