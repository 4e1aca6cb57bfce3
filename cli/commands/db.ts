import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import Sqlite from 'better-sqlite3';
import type { Command } from 'commander';
import pg from 'pg';
import { ensureAdmin } from '../../api/auth/bootstrap.ts';
import { type LogFlowConfig, loadConfig, type Mode } from '../../common/config.ts';
import { describeError } from '../../common/errors.ts';
import { sqliteFile } from '../../storage/db/open-database.ts';
import {
  ensurePostgresDatabase,
  migratePostgres,
  openPostgresDatabase,
} from '../../storage/db/postgres-database.ts';
import { openSqliteDatabase } from '../../storage/db/sqlite-database.ts';
import type { Database } from '../../storage/db/types.ts';

/**
 * `logflow db` — the seed's manage-db: init | migrate | shell | backup | restore <file> | reset.
 * PostgreSQL in the kafka mode (DATABASE_URL), the SQLite file in the data dir in the embedded mode.
 */
interface DbOptions {
  mode?: Mode;
}

function configFor(opts: DbOptions): LogFlowConfig {
  return loadConfig(process.env, opts.mode ? { mode: opts.mode } : {});
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

function where(config: LogFlowConfig): string {
  return config.mode === 'kafka'
    ? `PostgreSQL ${redact(config.databaseUrl)}`
    : `SQLite ${sqliteFile(config)}`;
}

/** Runs a client program with the terminal attached; resolves with its exit code. */
function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: 'inherit' });
    child.on('error', (err) =>
      reject(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error(`${command} is not installed (Debian: apt-get install postgresql-client / sqlite3)`)
          : err,
      ),
    );
    child.on('exit', (code) => resolvePromise(code ?? 1));
  });
}

async function withDatabase<T>(config: LogFlowConfig, fn: (db: Database) => Promise<T>): Promise<T> {
  const db =
    config.mode === 'kafka'
      ? await openPostgresDatabase(config.databaseUrl, { max: 2 })
      : openSqliteDatabase(sqliteFile(config));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^(y|yes)$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

async function init(opts: DbOptions): Promise<void> {
  const config = configFor(opts);
  if (config.mode === 'kafka' && (await ensurePostgresDatabase(config.databaseUrl))) {
    console.log(`created database ${redact(config.databaseUrl)}`);
  }
  await withDatabase(config, async (db) => {
    console.log(`${where(config)}: schema is up to date`);
    const admin = await ensureAdmin(db, config, (m) => console.log(m));
    if (!admin.created) console.log('users exist already; no admin created');
  });
}

async function migrate(opts: DbOptions): Promise<void> {
  const config = configFor(opts);
  if (config.mode === 'kafka') {
    await ensurePostgresDatabase(config.databaseUrl);
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
    try {
      const applied = await migratePostgres(pool);
      console.log(applied.length ? `applied migrations ${applied.join(', ')}` : 'no pending migrations');
    } finally {
      await pool.end();
    }
    return;
  }
  const db = openSqliteDatabase(sqliteFile(config));
  // Opening applied them; report what is recorded.
  const rows = db.handle.prepare('SELECT version, applied_at FROM schema_migrations ORDER BY version').all();
  await db.close();
  console.log(`${where(config)}: migrations ${JSON.stringify(rows)}`);
}

async function shell(opts: DbOptions): Promise<void> {
  const config = configFor(opts);
  const code =
    config.mode === 'kafka'
      ? await run('psql', [config.databaseUrl])
      : await run('sqlite3', [sqliteFile(config)]);
  process.exitCode = code;
}

async function backup(opts: DbOptions & { dir: string }): Promise<void> {
  const config = configFor(opts);
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  if (config.mode === 'kafka') {
    const file = join(dir, `logflow-${timestamp()}.sql`);
    // --clean --if-exists: restoring the file over an existing database replaces its tables.
    const code = await run('pg_dump', [
      '--clean',
      '--if-exists',
      '--no-owner',
      `--file=${file}`,
      config.databaseUrl,
    ]);
    if (code !== 0) throw new Error(`pg_dump exited with ${code}`);
    console.log(file);
    return;
  }
  const source = sqliteFile(config);
  if (!existsSync(source)) throw new Error(`${source} does not exist (run logflow db init)`);
  const file = join(dir, `logflow-${timestamp()}.sqlite`);
  const db = new Sqlite(source, { readonly: true });
  try {
    await db.backup(file); // SQLite's online backup: consistent while LogFlow runs
  } finally {
    db.close();
  }
  console.log(file);
}

async function restore(file: string, opts: DbOptions & { yes?: boolean }): Promise<void> {
  const config = configFor(opts);
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  if (!opts.yes && !(await confirm(`Replace the data in ${where(config)} with ${path}?`))) {
    console.log('aborted');
    return;
  }
  if (config.mode === 'kafka') {
    await ensurePostgresDatabase(config.databaseUrl);
    const code = await run('psql', ['-v', 'ON_ERROR_STOP=1', '--quiet', '-f', path, config.databaseUrl]);
    if (code !== 0) throw new Error(`psql exited with ${code}`);
    console.log(`restored ${path}`);
    return;
  }
  // SQLite: copy the backup into the database file through the backup API (stop LogFlow first:
  // a running server keeps its own connection to the old file's pages).
  const source = new Sqlite(path, { readonly: true, fileMustExist: true });
  try {
    const target = sqliteFile(config);
    mkdirSync(join(target, '..'), { recursive: true });
    await source.backup(target);
  } finally {
    source.close();
  }
  console.log(`restored ${path} into ${sqliteFile(config)}`);
}

async function reset(opts: DbOptions & { yes?: boolean }): Promise<void> {
  const config = configFor(opts);
  if (!opts.yes && !(await confirm(`Delete ALL users, rules, alerts and settings in ${where(config)}?`))) {
    console.log('aborted');
    return;
  }
  if (config.mode === 'kafka') {
    await ensurePostgresDatabase(config.databaseUrl);
    const client = new pg.Client({ connectionString: config.databaseUrl });
    await client.connect();
    try {
      await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
    } finally {
      await client.end();
    }
  } else {
    const file = sqliteFile(config);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  }
  await withDatabase(config, async (db) => {
    console.log(`${where(config)}: reset and migrated`);
    await ensureAdmin(db, config, (m) => console.log(m));
  });
}

export function register(program: Command): void {
  const db = program
    .command('db')
    .description(
      'Manage the database: PostgreSQL (LOGFLOW_MODE=kafka, DATABASE_URL) or the embedded SQLite file',
    )
    .option('--mode <mode>', 'embedded or kafka (default: LOGFLOW_MODE)');
  const action =
    <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
    async (...args: A) => {
      try {
        await fn(...args);
      } catch (err) {
        console.error(`logflow db: ${describeError(err)}`);
        process.exitCode = 1;
      }
    };
  const modeOf = () => db.opts<DbOptions>();

  db.command('init')
    .description('Create the database and schema, and the first admin (password printed once)')
    .action(action(() => init(modeOf())));
  db.command('migrate')
    .description('Apply pending migrations')
    .action(action(() => migrate(modeOf())));
  db.command('shell')
    .description('Open psql (PostgreSQL) or sqlite3 (embedded) on the database')
    .action(action(() => shell(modeOf())));
  db.command('backup')
    .description('Write backups/logflow-YYYYMMDD-HHMMSS.sql (pg_dump) or .sqlite (SQLite backup API)')
    .option('--dir <dir>', 'backup directory', 'backups')
    .action(action((o: { dir: string }) => backup({ ...modeOf(), ...o })));
  db.command('restore <file>')
    .description('Restore a backup made by `logflow db backup` (stop LogFlow first)')
    .option('--yes', 'do not ask for confirmation')
    .action(action((file: string, o: { yes?: boolean }) => restore(file, { ...modeOf(), ...o })));
  db.command('reset')
    .description('Delete everything and recreate the schema (asks first)')
    .option('--yes', 'do not ask for confirmation')
    .action(action((o: { yes?: boolean }) => reset({ ...modeOf(), ...o })));
}
