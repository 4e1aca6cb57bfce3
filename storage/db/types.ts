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
