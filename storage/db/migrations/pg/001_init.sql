-- LogFlow schema v1 (PostgreSQL). Applied once by the migration runner inside a transaction.
CREATE TABLE users (
  id            BIGSERIAL PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,
  email         TEXT,
  role          TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
  password_hash TEXT NOT NULL,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_login_at TIMESTAMPTZ
);

CREATE TABLE api_keys (
  id           BIGSERIAL PRIMARY KEY,
  name         TEXT NOT NULL,
  prefix       TEXT NOT NULL,
  key_hash     TEXT NOT NULL UNIQUE,
  role         TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
  created_by   TEXT NOT NULL,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_used_at TIMESTAMPTZ,
  expires_at   TIMESTAMPTZ
);

CREATE TABLE alert_rules (
  id                  BIGSERIAL PRIMARY KEY,
  name                TEXT NOT NULL UNIQUE,
  description         TEXT,
  service             TEXT,
  levels              JSONB NOT NULL DEFAULT '[]',
  condition           TEXT NOT NULL CHECK (condition IN ('count_above', 'error_rate_above', 'absence')),
  threshold           DOUBLE PRECISION NOT NULL,
  recovery_threshold  DOUBLE PRECISION,
  window_seconds      INTEGER NOT NULL,
  for_seconds         INTEGER NOT NULL DEFAULT 0,
  keep_firing_seconds INTEGER NOT NULL DEFAULT 0,
  severity            TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  labels              JSONB NOT NULL DEFAULT '{}',
  enabled             BOOLEAN NOT NULL DEFAULT true,
  targets             JSONB NOT NULL DEFAULT '[]',
  created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The alert stage reloads rules without a restart: every committed change is announced.
CREATE FUNCTION logflow_notify_alert_rules() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('logflow_alert_rules',
    json_build_object('op', lower(TG_OP), 'id', COALESCE(NEW.id, OLD.id))::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER alert_rules_notify AFTER INSERT OR UPDATE OR DELETE ON alert_rules
  FOR EACH ROW EXECUTE FUNCTION logflow_notify_alert_rules();

CREATE TABLE triggered_alerts (
  id              BIGSERIAL PRIMARY KEY,
  rule_id         BIGINT NOT NULL,
  rule_name       TEXT NOT NULL,
  fingerprint     TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('firing', 'resolved', 'acknowledged')),
  severity        TEXT NOT NULL,
  service         TEXT,
  value           DOUBLE PRECISION NOT NULL,
  threshold       DOUBLE PRECISION NOT NULL,
  labels          JSONB NOT NULL DEFAULT '{}',
  started_at      TIMESTAMPTZ NOT NULL,
  resolved_at     TIMESTAMPTZ,
  acknowledged_by TEXT,
  acknowledged_at TIMESTAMPTZ
);
-- At most one open alert per fingerprint: makes recordFiring an idempotent upsert.
CREATE UNIQUE INDEX triggered_alerts_open_fingerprint ON triggered_alerts (fingerprint)
  WHERE resolved_at IS NULL;
CREATE INDEX triggered_alerts_started_at ON triggered_alerts (started_at DESC);
CREATE INDEX triggered_alerts_rule_id ON triggered_alerts (rule_id);

CREATE TABLE silences (
  id         BIGSERIAL PRIMARY KEY,
  rule_id    BIGINT,
  service    TEXT,
  starts_at  TIMESTAMPTZ NOT NULL,
  ends_at    TIMESTAMPTZ NOT NULL,
  comment    TEXT,
  created_by TEXT NOT NULL,
  CHECK (rule_id IS NOT NULL OR service IS NOT NULL),
  CHECK (ends_at > starts_at)
);
CREATE INDEX silences_ends_at ON silences (ends_at);

CREATE TABLE system_config (
  key        TEXT PRIMARY KEY,
  value      JSONB NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
