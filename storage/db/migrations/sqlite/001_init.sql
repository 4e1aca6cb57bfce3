-- LogFlow schema v1 (SQLite, the embedded mode). Times are ISO 8601 UTC text; JSON is text.
CREATE TABLE users (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  username      TEXT NOT NULL UNIQUE,
  email         TEXT,
  role          TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
  password_hash TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  last_login_at TEXT
);

CREATE TABLE api_keys (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  name         TEXT NOT NULL,
  prefix       TEXT NOT NULL,
  key_hash     TEXT NOT NULL UNIQUE,
  role         TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
  created_by   TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  last_used_at TEXT,
  expires_at   TEXT
);

CREATE TABLE alert_rules (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  name                TEXT NOT NULL UNIQUE,
  description         TEXT,
  service             TEXT,
  levels              TEXT NOT NULL DEFAULT '[]',
  condition           TEXT NOT NULL CHECK (condition IN ('count_above', 'error_rate_above', 'absence')),
  threshold           REAL NOT NULL,
  recovery_threshold  REAL,
  window_seconds      INTEGER NOT NULL,
  for_seconds         INTEGER NOT NULL DEFAULT 0,
  keep_firing_seconds INTEGER NOT NULL DEFAULT 0,
  severity            TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  labels              TEXT NOT NULL DEFAULT '{}',
  enabled             INTEGER NOT NULL DEFAULT 1,
  targets             TEXT NOT NULL DEFAULT '[]',
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL
);

-- Other processes writing the same file (e.g. `logflow db`) are noticed by polling this log.
CREATE TABLE alert_rule_changes (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  op      TEXT NOT NULL,
  rule_id INTEGER NOT NULL
);
CREATE TRIGGER alert_rules_ai AFTER INSERT ON alert_rules
  BEGIN INSERT INTO alert_rule_changes (op, rule_id) VALUES ('insert', NEW.id); END;
CREATE TRIGGER alert_rules_au AFTER UPDATE ON alert_rules
  BEGIN INSERT INTO alert_rule_changes (op, rule_id) VALUES ('update', NEW.id); END;
CREATE TRIGGER alert_rules_ad AFTER DELETE ON alert_rules
  BEGIN INSERT INTO alert_rule_changes (op, rule_id) VALUES ('delete', OLD.id); END;

CREATE TABLE triggered_alerts (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  rule_id         INTEGER NOT NULL,
  rule_name       TEXT NOT NULL,
  fingerprint     TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('firing', 'resolved', 'acknowledged')),
  severity        TEXT NOT NULL,
  service         TEXT,
  value           REAL NOT NULL,
  threshold       REAL NOT NULL,
  labels          TEXT NOT NULL DEFAULT '{}',
  started_at      TEXT NOT NULL,
  resolved_at     TEXT,
  acknowledged_by TEXT,
  acknowledged_at TEXT
);
CREATE UNIQUE INDEX triggered_alerts_open_fingerprint ON triggered_alerts (fingerprint)
  WHERE resolved_at IS NULL;
CREATE INDEX triggered_alerts_started_at ON triggered_alerts (started_at DESC);
CREATE INDEX triggered_alerts_rule_id ON triggered_alerts (rule_id);

CREATE TABLE silences (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  rule_id    INTEGER,
  service    TEXT,
  starts_at  TEXT NOT NULL,
  ends_at    TEXT NOT NULL,
  comment    TEXT,
  created_by TEXT NOT NULL,
  CHECK (rule_id IS NOT NULL OR service IS NOT NULL),
  CHECK (ends_at > starts_at)
);
CREATE INDEX silences_ends_at ON silences (ends_at);

CREATE TABLE system_config (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
