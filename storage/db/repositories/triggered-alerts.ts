import { iso, isoOrNull, json, num, type Row, type SqlClient, toStoredTime } from '../sql-client.ts';
import type { AlertStatus, Severity, TriggeredAlert, TriggeredAlertsRepository } from '../types.ts';

function toAlert(r: Row): TriggeredAlert {
  return {
    id: num(r.id),
    rule_id: num(r.rule_id),
    rule_name: String(r.rule_name),
    fingerprint: String(r.fingerprint),
    status: r.status as AlertStatus,
    severity: r.severity as Severity,
    service: (r.service as string | null) ?? null,
    value: num(r.value),
    threshold: num(r.threshold),
    labels: json<Record<string, string>>(r.labels),
    started_at: iso(r.started_at),
    resolved_at: isoOrNull(r.resolved_at),
    acknowledged_by: (r.acknowledged_by as string | null) ?? null,
    acknowledged_at: isoOrNull(r.acknowledged_at),
  };
}

export function createTriggeredAlertsRepository(sql: SqlClient): TriggeredAlertsRepository {
  return {
    async recordFiring(input) {
      // The partial unique index (fingerprint WHERE resolved_at IS NULL) makes this one atomic
      // statement idempotent under replays and concurrent alert-stage instances.
      const [row] = await sql.query(
        `INSERT INTO triggered_alerts
           (rule_id, rule_name, fingerprint, status, severity, service, value, threshold, labels, started_at)
         VALUES (?, ?, ?, 'firing', ?, ?, ?, ?, ?, ?)
         ON CONFLICT (fingerprint) WHERE resolved_at IS NULL
         DO UPDATE SET value = excluded.value, threshold = excluded.threshold,
           severity = excluded.severity, rule_name = excluded.rule_name
         RETURNING *`,
        [
          input.rule_id,
          input.rule_name,
          input.fingerprint,
          input.severity,
          input.service,
          input.value,
          input.threshold,
          JSON.stringify(input.labels),
          toStoredTime(input.started_at),
        ],
      );
      return toAlert(row);
    },
    async recordResolved(fingerprint, resolvedAt, value) {
      const [row] = await sql.query(
        `UPDATE triggered_alerts SET status = 'resolved', resolved_at = ?, value = coalesce(?, value)
         WHERE fingerprint = ? AND resolved_at IS NULL RETURNING *`,
        [toStoredTime(resolvedAt), value ?? null, fingerprint],
      );
      return row ? toAlert(row) : null;
    },
    async acknowledge(id, by, at) {
      const [row] = await sql.query(
        `UPDATE triggered_alerts SET acknowledged_by = ?, acknowledged_at = ?,
           status = CASE WHEN status = 'firing' THEN 'acknowledged' ELSE status END
         WHERE id = ? RETURNING *`,
        [by, toStoredTime(at), id],
      );
      return row ? toAlert(row) : null;
    },
    async get(id) {
      const [row] = await sql.query('SELECT * FROM triggered_alerts WHERE id = ?', [id]);
      return row ? toAlert(row) : null;
    },
    async listOpen() {
      const rows = await sql.query('SELECT * FROM triggered_alerts WHERE resolved_at IS NULL ORDER BY id');
      return rows.map(toAlert);
    },
    async list(filter) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.status) {
        where.push('status = ?');
        params.push(filter.status);
      }
      if (filter.rule_id !== undefined) {
        where.push('rule_id = ?');
        params.push(filter.rule_id);
      }
      if (filter.service) {
        where.push('service = ?');
        params.push(filter.service);
      }
      if (filter.since) {
        where.push('started_at >= ?');
        params.push(toStoredTime(filter.since));
      }
      if (filter.until) {
        where.push('started_at <= ?');
        params.push(toStoredTime(filter.until));
      }
      const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const [countRow] = await sql.query(`SELECT count(*) AS n FROM triggered_alerts ${clause}`, params);
      const rows = await sql.query(
        `SELECT * FROM triggered_alerts ${clause} ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?`,
        [...params, filter.limit, filter.offset],
      );
      return { total: num(countRow.n), alerts: rows.map(toAlert) };
    },
  };
}
