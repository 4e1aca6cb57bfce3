import type { SqlClient } from '../sql-client.ts';
import type { SystemConfigRepository } from '../types.ts';

export function createSystemConfigRepository(sql: SqlClient): SystemConfigRepository {
  return {
    async getAll() {
      const rows = await sql.query<{ key: string; value: unknown }>(
        'SELECT key, CAST(value AS TEXT) AS value FROM system_config ORDER BY key',
      );
      return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(String(r.value))]));
    },
    async get(key) {
      const [row] = await sql.query('SELECT CAST(value AS TEXT) AS value FROM system_config WHERE key = ?', [
        key,
      ]);
      return row ? JSON.parse(String(row.value)) : undefined;
    },
    async set(key, value) {
      await sql.query(
        `INSERT INTO system_config (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
         RETURNING key`,
        [key, JSON.stringify(value), new Date().toISOString()],
      );
    },
    async setIfAbsent(key, value) {
      await sql.query(
        `INSERT INTO system_config (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO NOTHING RETURNING key`,
        [key, JSON.stringify(value), new Date().toISOString()],
      );
      return this.get(key);
    },
    async delete(key) {
      return (await sql.query('DELETE FROM system_config WHERE key = ? RETURNING key', [key])).length > 0;
    },
  };
}
