-- slipway state, version 2: Idempotency-Key records (IETF httpapi-idempotency-key-header).
-- One row per caller-scoped key: the request's digest, the operation it started and
-- the first response, kept until expires_at.
CREATE TABLE idempotency (
  key TEXT PRIMARY KEY,
  request_hash TEXT NOT NULL,
  operation_id TEXT NOT NULL,
  response TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX idempotency_expiry ON idempotency (expires_at);
