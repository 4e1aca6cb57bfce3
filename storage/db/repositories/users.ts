import { iso, isoOrNull, num, type Row, type SqlClient } from '../sql-client.ts';
import type { Role, User, UserInput, UsersRepository } from '../types.ts';

function toUser(r: Row): User {
  return {
    id: num(r.id),
    username: String(r.username),
    email: (r.email as string | null) ?? null,
    role: r.role as Role,
    password_hash: String(r.password_hash),
    created_at: iso(r.created_at),
    last_login_at: isoOrNull(r.last_login_at),
  };
}

export function createUsersRepository(sql: SqlClient): UsersRepository {
  return {
    async list() {
      return (await sql.query('SELECT * FROM users ORDER BY id')).map(toUser);
    },
    async get(id) {
      const [row] = await sql.query('SELECT * FROM users WHERE id = ?', [id]);
      return row ? toUser(row) : null;
    },
    async findByUsername(username) {
      const [row] = await sql.query('SELECT * FROM users WHERE username = ?', [username]);
      return row ? toUser(row) : null;
    },
    async create(input: UserInput) {
      const [row] = await sql.query(
        `INSERT INTO users (username, email, role, password_hash, created_at)
         VALUES (?, ?, ?, ?, ?) RETURNING *`,
        [input.username, input.email, input.role, input.password_hash, new Date().toISOString()],
      );
      return toUser(row);
    },
    async update(id, patch) {
      const current = await this.get(id);
      if (!current) return null;
      const next = { ...current, ...patch };
      const [row] = await sql.query(
        'UPDATE users SET email = ?, role = ?, password_hash = ? WHERE id = ? RETURNING *',
        [next.email, next.role, next.password_hash, id],
      );
      return row ? toUser(row) : null;
    },
    async delete(id) {
      return (await sql.query('DELETE FROM users WHERE id = ? RETURNING id', [id])).length > 0;
    },
    async recordLogin(id, at) {
      await sql.query('UPDATE users SET last_login_at = ? WHERE id = ? RETURNING id', [at, id]);
    },
    async count(role) {
      const [row] = role
        ? await sql.query('SELECT count(*) AS n FROM users WHERE role = ?', [role])
        : await sql.query('SELECT count(*) AS n FROM users');
      return num(row.n);
    },
  };
}
