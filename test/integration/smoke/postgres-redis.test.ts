/** Proves PostgreSQL and Redis answer for real: a row and a key make a round trip. */
import { describe, expect, it } from 'vitest';
import { pgPool, pgTable, redis, redisPrefix } from '../../helpers/services.ts';

describe('postgres smoke', () => {
  it('writes and reads back a row in the logflow database', async () => {
    const pool = pgPool();
    const table = pgTable();
    const db = await pool.query<{ db: string }>('SELECT current_database() AS db');
    expect(db.rows[0].db).toBe('logflow');
    await pool.query(
      `CREATE TABLE ${table} (id serial PRIMARY KEY, body jsonb NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
    );
    await pool.query(`INSERT INTO ${table} (body) VALUES ($1), ($2)`, [
      { level: 'ERROR' },
      { level: 'INFO' },
    ]);
    const rows = await pool.query<{ level: string }>(
      `SELECT body->>'level' AS level FROM ${table} ORDER BY id`,
    );
    expect(rows.rows.map((r) => r.level)).toEqual(['ERROR', 'INFO']);
  });
});

describe('redis smoke', () => {
  it('writes and reads back a hash and a sorted set', async () => {
    const client = redis();
    const prefix = redisPrefix();
    await client.hset(`${prefix}window`, { count: '3', errors: '1' });
    await client.zadd(`${prefix}times`, 2, 'b', 1, 'a');
    expect(await client.hgetall(`${prefix}window`)).toEqual({ count: '3', errors: '1' });
    expect(await client.zrange(`${prefix}times`, 0, -1)).toEqual(['a', 'b']);
    expect(await client.pexpire(`${prefix}window`, 60_000)).toBe(1);
  });
});
