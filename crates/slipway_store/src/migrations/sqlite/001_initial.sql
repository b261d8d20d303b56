-- slipway state, version 1 (SQLite). The audit log is append-only: triggers refuse UPDATE and DELETE.
CREATE TABLE deployments (
  id TEXT PRIMARY KEY,
  project TEXT NOT NULL,
  environment TEXT NOT NULL,
  runtime TEXT NOT NULL,
  target TEXT NOT NULL,
  spec_hash TEXT NOT NULL,
  generator TEXT NOT NULL,
  spec_path TEXT NOT NULL,
  out_dir TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE operations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  deployment_id TEXT NOT NULL REFERENCES deployments (id),
  target TEXT NOT NULL,
  kind TEXT NOT NULL,
  phase TEXT NOT NULL,
  holder TEXT NOT NULL,
  release_id TEXT,
  error TEXT,
  detail TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX operations_target ON operations (target, phase);
CREATE INDEX operations_deployment ON operations (deployment_id);
CREATE TABLE releases (
  id TEXT PRIMARY KEY,
  deployment_id TEXT NOT NULL REFERENCES deployments (id),
  target TEXT NOT NULL,
  document TEXT NOT NULL,
  digest TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE leases (
  target TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  boot_id TEXT NOT NULL,
  pid BIGINT NOT NULL,
  operation_id TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  acquired_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE TABLE audit (
  seq BIGINT PRIMARY KEY,
  at BIGINT NOT NULL,
  deployment_id TEXT NOT NULL,
  operation_id TEXT,
  kind TEXT NOT NULL,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_deployment ON audit (deployment_id, seq);
CREATE TABLE drift_scans (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  deployment_id TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX drift_scans_deployment ON drift_scans (deployment_id, seq);
CREATE TABLE drift_findings (
  scan_id TEXT NOT NULL REFERENCES drift_scans (id),
  idx BIGINT NOT NULL,
  category TEXT NOT NULL,
  subject TEXT NOT NULL,
  field TEXT NOT NULL,
  desired TEXT NOT NULL,
  observed TEXT NOT NULL,
  remediation TEXT NOT NULL,
  PRIMARY KEY (scan_id, idx)
);
CREATE TABLE events (
  seq BIGINT PRIMARY KEY,
  at BIGINT NOT NULL,
  deployment_id TEXT NOT NULL,
  operation_id TEXT,
  kind TEXT NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX events_deployment ON events (deployment_id, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
