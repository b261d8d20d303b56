-- slipway state, version 3: what agents used to keep in their data folder, so agents
-- sharing one database agree. The request each deployment was generated from (its
-- parameters and the answer) and the logs of failed operations (secrets redacted
-- before they are written).
CREATE TABLE generate_requests (
  deployment_id TEXT PRIMARY KEY,
  request_digest TEXT NOT NULL,
  request TEXT NOT NULL,
  response TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE logs (
  ref TEXT PRIMARY KEY,
  text TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
