import { iso, isoOrNull, num, type Row, type SqlClient } from '../sql-client.ts';
import type { ApiKey, ApiKeysRepository, Role } from '../types.ts';

function toApiKey(r: Row): ApiKey {
  return {
    id: num(r.id),
    name: String(r.name),
    prefix: String(r.prefix),
    role: r.role as Role,
    created_by: String(r.created_by),
    created_at: iso(r.created_at),
    last_used_at: isoOrNull(r.last_used_at),
    expires_at: isoOrNull(r.expires_at),
  };
}

export function createApiKeysRepository(sql: SqlClient): ApiKeysRepository {
  return {
    async list() {
      return (await sql.query('SELECT * FROM api_keys ORDER BY id')).map(toApiKey);
    },
    async create(input) {
      const [row] = await sql.query(
        `INSERT INTO api_keys (name, prefix, key_hash, role, created_by, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        [
          input.name,
          input.prefix,
          input.key_hash,
          input.role,
          input.created_by,
          new Date().toISOString(),
          input.expires_at,
        ],
      );
      return toApiKey(row);
    },
    async findByHash(keyHash) {
      const [row] = await sql.query('SELECT * FROM api_keys WHERE key_hash = ?', [keyHash]);
      return row ? toApiKey(row) : null;
    },
    async recordUse(id, at) {
      await sql.query('UPDATE api_keys SET last_used_at = ? WHERE id = ? RETURNING id', [at, id]);
    },
    async delete(id) {
      return (await sql.query('DELETE FROM api_keys WHERE id = ? RETURNING id', [id])).length > 0;
    },
  };
}
