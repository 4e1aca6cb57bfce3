/**
 * Users, alert rules, triggered alerts, silences and system config: PostgreSQL in the distributed
 * mode, SQLite in the embedded mode, behind these repositories.
 */
export type Role = 'admin' | 'viewer';

export interface User {
  id: number;
  username: string;
  email: string | null;
  role: Role;
  password_hash: string;
  created_at: string;
  last_login_at: string | null;
}

export type AlertCondition = 'count_above' | 'error_rate_above' | 'absence';
export type Severity = 'info' | 'warning' | 'critical';

export interface NotificationTarget {
  url: string;
  /** `json` (LogFlow's signed payload) or `slack` (Slack-compatible text payload). */
  format?: 'json' | 'slack';
}

export interface AlertRule {
  id: number;
  name: string;
  description: string | null;
  /** null = all services. */
  service: string | null;
  /** Levels counted by `count_above` (empty = all levels). */
  levels: string[];
  condition: AlertCondition;
  threshold: number;
  /** Hysteresis: a firing alert resolves only once the value is at or below this (default: threshold). */
  recovery_threshold: number | null;
  window_seconds: number;
  /** The condition must hold this long before the alert fires. */
  for_seconds: number;
  /** A firing alert stays firing at least this long after the condition clears. */
  keep_firing_seconds: number;
  severity: Severity;
  labels: Record<string, string>;
  enabled: boolean;
  targets: NotificationTarget[];
  created_at: string;
  updated_at: string;
}

export type AlertRuleInput = Omit<AlertRule, 'id' | 'created_at' | 'updated_at'>;

export type AlertStatus = 'firing' | 'resolved' | 'acknowledged';

export interface TriggeredAlert {
  id: number;
  rule_id: number;
  rule_name: string;
  fingerprint: string;
  status: AlertStatus;
  severity: Severity;
  service: string | null;
  value: number;
  threshold: number;
  labels: Record<string, string>;
  started_at: string;
  resolved_at: string | null;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
}

export interface Silence {
  id: number;
  rule_id: number | null;
  service: string | null;
  starts_at: string;
  ends_at: string;
  comment: string | null;
  created_by: string;
}

// ---------------------------------------------------------------------------------------------
// Repositories (added by the API/database issue). Every method is async; both implementations
// (PostgreSQL and SQLite) give the same answers. Times are ISO 8601 strings (UTC, with ms).
// Unique-key violations throw LogFlowError LF_ERR_CONFLICT.
// ---------------------------------------------------------------------------------------------

export interface UserInput {
  username: string;
  email: string | null;
  role: Role;
  password_hash: string;
}

export interface UsersRepository {
  list(): Promise<User[]>;
  get(id: number): Promise<User | null>;
  findByUsername(username: string): Promise<User | null>;
  create(input: UserInput): Promise<User>;
  update(id: number, patch: Partial<Omit<UserInput, 'username'>>): Promise<User | null>;
  delete(id: number): Promise<boolean>;
  recordLogin(id: number, at: string): Promise<void>;
  count(role?: Role): Promise<number>;
}

/** An API key as stored: only a SHA-256 hash of the secret is kept; `prefix` identifies it in lists. */
export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  role: Role;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
}

export interface ApiKeysRepository {
  list(): Promise<ApiKey[]>;
  create(input: {
    name: string;
    prefix: string;
    key_hash: string;
    role: Role;
    created_by: string;
    expires_at: string | null;
  }): Promise<ApiKey>;
  findByHash(keyHash: string): Promise<ApiKey | null>;
  recordUse(id: number, at: string): Promise<void>;
  delete(id: number): Promise<boolean>;
}

/** `reload` means "changes may have been missed (e.g. a reconnect): re-read every rule". */
export interface AlertRuleChange {
  op: 'created' | 'updated' | 'deleted' | 'reload';
  id: number | null;
}

export interface AlertRulesRepository {
  list(filter?: { enabled?: boolean }): Promise<AlertRule[]>;
  get(id: number): Promise<AlertRule | null>;
  create(input: AlertRuleInput): Promise<AlertRule>;
  /** Replaces every field; null when the rule does not exist. */
  update(id: number, input: AlertRuleInput): Promise<AlertRule | null>;
  delete(id: number): Promise<boolean>;
  /**
   * Calls `onChange` after every committed change to alert_rules — from this process or any other
   * writer of the same database (PostgreSQL LISTEN/NOTIFY; SQLite in-process events plus polling).
   * PostgreSQL also sends `reload` once listening has started (and after reconnects): changes made
   * between a caller's `list()` and that moment are then not lost.
   * Returns `stop`, which is idempotent. Listeners must not throw.
   */
  watch(onChange: (change: AlertRuleChange) => void): () => Promise<void>;
}

/** What the alert stage records when a rule starts firing (or keeps firing). */
export interface FiringInput {
  rule_id: number;
  rule_name: string;
  /** Identifies one alert instance (rule + service + labels); at most one is open per fingerprint. */
  fingerprint: string;
  severity: Severity;
  service: string | null;
  value: number;
  threshold: number;
  labels: Record<string, string>;
  started_at: string;
}

export interface TriggeredAlertFilter {
  status?: AlertStatus;
  rule_id?: number;
  service?: string;
  /** started_at >= since */
  since?: string;
  /** started_at <= until */
  until?: string;
  limit: number;
  offset: number;
}

export interface TriggeredAlertsRepository {
  /**
   * Idempotent upsert by fingerprint: when an open (firing or acknowledged) alert with this
   * fingerprint exists, updates its value and returns it (started_at and acknowledgement kept);
   * otherwise inserts a new firing alert.
   */
  recordFiring(input: FiringInput): Promise<TriggeredAlert>;
  /** Resolves the open alert with this fingerprint; null when none is open (idempotent). */
  recordResolved(fingerprint: string, resolvedAt: string, value?: number): Promise<TriggeredAlert | null>;
  /** Marks an open alert acknowledged; null when absent. Resolved alerts keep their status. */
  acknowledge(id: number, by: string, at: string): Promise<TriggeredAlert | null>;
  get(id: number): Promise<TriggeredAlert | null>;
  /** Open alerts (firing or acknowledged), for the alert stage to restore its state on start. */
  listOpen(): Promise<TriggeredAlert[]>;
  /** Newest first. */
  list(filter: TriggeredAlertFilter): Promise<{ total: number; alerts: TriggeredAlert[] }>;
}

export type SilenceInput = Omit<Silence, 'id'>;

export interface SilencesRepository {
  /** With `activeAt`, only silences whose [starts_at, ends_at) contains it. */
  list(filter?: { activeAt?: string }): Promise<Silence[]>;
  get(id: number): Promise<Silence | null>;
  create(input: SilenceInput): Promise<Silence>;
  update(id: number, input: SilenceInput): Promise<Silence | null>;
  delete(id: number): Promise<boolean>;
  /** True when an active silence matches the rule id or the service at `at`. */
  isSilenced(ruleId: number, service: string | null, at: string): Promise<boolean>;
}

/** Settings as JSON values by key. Keys starting with `internal.` are never exposed by the API. */
export interface SystemConfigRepository {
  getAll(): Promise<Record<string, unknown>>;
  get(key: string): Promise<unknown | undefined>;
  set(key: string, value: unknown): Promise<void>;
  /** Stores `value` only when the key is absent; returns the value stored (the winner of a race). */
  setIfAbsent(key: string, value: unknown): Promise<unknown>;
  delete(key: string): Promise<boolean>;
}

/**
 * Every repository over one connection (pool). Lifecycle: `openDatabase()` returns it migrated
 * and ready; `close()` stops watchers and releases connections and is idempotent.
 */
export interface Database {
  readonly kind: 'postgres' | 'sqlite';
  readonly users: UsersRepository;
  readonly apiKeys: ApiKeysRepository;
  readonly alertRules: AlertRulesRepository;
  readonly triggeredAlerts: TriggeredAlertsRepository;
  readonly silences: SilencesRepository;
  readonly systemConfig: SystemConfigRepository;
  /** Applies pending migrations; returns the versions applied now (empty when up to date). */
  migrate(): Promise<string[]>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
