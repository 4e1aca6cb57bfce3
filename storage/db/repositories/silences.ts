import { iso, num, numOrNull, type Row, type SqlClient, toStoredTime } from '../sql-client.ts';
import type { Silence, SilenceInput, SilencesRepository } from '../types.ts';

function toSilence(r: Row): Silence {
  return {
    id: num(r.id),
    rule_id: numOrNull(r.rule_id),
    service: (r.service as string | null) ?? null,
    starts_at: iso(r.starts_at),
    ends_at: iso(r.ends_at),
    comment: (r.comment as string | null) ?? null,
    created_by: String(r.created_by),
  };
}

function values(input: SilenceInput): unknown[] {
  return [
    input.rule_id,
    input.service,
    toStoredTime(input.starts_at),
    toStoredTime(input.ends_at),
    input.comment,
    input.created_by,
  ];
}

export function createSilencesRepository(sql: SqlClient): SilencesRepository {
  return {
    async list(filter = {}) {
      const rows = filter.activeAt
        ? await sql.query('SELECT * FROM silences WHERE starts_at <= ? AND ends_at > ? ORDER BY id', [
            toStoredTime(filter.activeAt),
            toStoredTime(filter.activeAt),
          ])
        : await sql.query('SELECT * FROM silences ORDER BY id');
      return rows.map(toSilence);
    },
    async get(id) {
      const [row] = await sql.query('SELECT * FROM silences WHERE id = ?', [id]);
      return row ? toSilence(row) : null;
    },
    async create(input) {
      const [row] = await sql.query(
        `INSERT INTO silences (rule_id, service, starts_at, ends_at, comment, created_by)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING *`,
        values(input),
      );
      return toSilence(row);
    },
    async update(id, input) {
      const [row] = await sql.query(
        `UPDATE silences SET rule_id = ?, service = ?, starts_at = ?, ends_at = ?, comment = ?, created_by = ?
         WHERE id = ? RETURNING *`,
        [...values(input), id],
      );
      return row ? toSilence(row) : null;
    },
    async delete(id) {
      return (await sql.query('DELETE FROM silences WHERE id = ? RETURNING id', [id])).length > 0;
    },
    async isSilenced(ruleId, service, at) {
      const t = toStoredTime(at);
      const [row] = await sql.query(
        `SELECT count(*) AS n FROM silences
         WHERE starts_at <= ? AND ends_at > ? AND (rule_id = ? OR (service IS NOT NULL AND service = ?))`,
        [t, t, ruleId, service],
      );
      return num(row.n) > 0;
    },
  };
}
