import { iso, json, num, numOrNull, type Row, type RuleChangeFeed, type SqlClient } from '../sql-client.ts';
import type {
  AlertCondition,
  AlertRule,
  AlertRuleInput,
  AlertRulesRepository,
  NotificationTarget,
  Severity,
} from '../types.ts';

function toRule(r: Row): AlertRule {
  return {
    id: num(r.id),
    name: String(r.name),
    description: (r.description as string | null) ?? null,
    service: (r.service as string | null) ?? null,
    levels: json<string[]>(r.levels),
    condition: r.condition as AlertCondition,
    threshold: num(r.threshold),
    recovery_threshold: numOrNull(r.recovery_threshold),
    window_seconds: num(r.window_seconds),
    for_seconds: num(r.for_seconds),
    keep_firing_seconds: num(r.keep_firing_seconds),
    severity: r.severity as Severity,
    labels: json<Record<string, string>>(r.labels),
    enabled: Boolean(r.enabled),
    targets: json<NotificationTarget[]>(r.targets),
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  };
}

function values(input: AlertRuleInput): unknown[] {
  return [
    input.name,
    input.description,
    input.service,
    JSON.stringify(input.levels),
    input.condition,
    input.threshold,
    input.recovery_threshold,
    input.window_seconds,
    input.for_seconds,
    input.keep_firing_seconds,
    input.severity,
    JSON.stringify(input.labels),
    input.enabled,
    JSON.stringify(input.targets),
  ];
}

const COLUMNS =
  'name, description, service, levels, condition, threshold, recovery_threshold, window_seconds, ' +
  'for_seconds, keep_firing_seconds, severity, labels, enabled, targets';

export function createAlertRulesRepository(sql: SqlClient, feed: RuleChangeFeed): AlertRulesRepository {
  return {
    async list(filter = {}) {
      const rows =
        filter.enabled === undefined
          ? await sql.query('SELECT * FROM alert_rules ORDER BY id')
          : await sql.query('SELECT * FROM alert_rules WHERE enabled = ? ORDER BY id', [filter.enabled]);
      return rows.map(toRule);
    },
    async get(id) {
      const [row] = await sql.query('SELECT * FROM alert_rules WHERE id = ?', [id]);
      return row ? toRule(row) : null;
    },
    async create(input) {
      const now = new Date().toISOString();
      const [row] = await sql.query(
        `INSERT INTO alert_rules (${COLUMNS}, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        [...values(input), now, now],
      );
      feed.afterWrite();
      return toRule(row);
    },
    async update(id, input) {
      const [row] = await sql.query(
        `UPDATE alert_rules SET name = ?, description = ?, service = ?, levels = ?, condition = ?,
           threshold = ?, recovery_threshold = ?, window_seconds = ?, for_seconds = ?,
           keep_firing_seconds = ?, severity = ?, labels = ?, enabled = ?, targets = ?, updated_at = ?
         WHERE id = ? RETURNING *`,
        [...values(input), new Date().toISOString(), id],
      );
      feed.afterWrite();
      return row ? toRule(row) : null;
    },
    async delete(id) {
      const deleted = (await sql.query('DELETE FROM alert_rules WHERE id = ? RETURNING id', [id])).length > 0;
      feed.afterWrite();
      return deleted;
    },
    watch(onChange) {
      return feed.watch(onChange);
    },
  };
}
