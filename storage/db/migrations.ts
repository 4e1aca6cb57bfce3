import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Versioned migrations: `migrations/<dialect>/NNN_name.sql`, applied in order, each recorded in
 * `schema_migrations`. A migration file is never edited once released; changes add a new file.
 */
export interface Migration {
  version: string;
  name: string;
  sql: string;
}

const here = dirname(fileURLToPath(import.meta.url));

export function loadMigrations(dialect: 'pg' | 'sqlite'): Migration[] {
  const dir = join(here, 'migrations', dialect);
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort()
    .map((f) => {
      const [version, ...rest] = f.replace(/\.sql$/, '').split('_');
      return { version, name: rest.join('_'), sql: readFileSync(join(dir, f), 'utf8') };
    });
}

export const SCHEMA_MIGRATIONS_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;
