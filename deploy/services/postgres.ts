import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULTS } from '../../common/config.ts';
import { LogFlowError } from '../../common/errors.ts';
import { ensurePackages } from './debian.ts';
import { servicePaths } from './paths.ts';
import { postgresHealthy } from './probes.ts';
import { isAlive, run } from './processes.ts';
import type { ManagedService, Say } from './service.ts';

const CONF_ROOT = '/etc/postgresql';

/** The installed cluster's major version (Debian keeps one directory per version under /etc/postgresql). */
function clusterVersion(): string | undefined {
  if (!existsSync(CONF_ROOT)) return undefined;
  return readdirSync(CONF_ROOT).sort().at(-1);
}

/** The connection string for the server's maintenance database, used before `logflow` exists. */
function maintenanceUrl(url: string): string {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
}

/**
 * PostgreSQL from Debian's packages. The running server is used when it answers; otherwise the
 * installed cluster is started with pg_ctlcluster (installing the package first on a fresh
 * machine), and only a cluster started here is stopped by `down`.
 */
export function postgresService(home: string): ManagedService {
  const paths = servicePaths(home, 'postgres');
  const url = DEFAULTS.databaseUrl;
  const marker = join(paths.dir, 'started-by-logflow');
  const database = new URL(url).pathname.slice(1);

  const ourPid = (): number | undefined => {
    if (!existsSync(marker)) return undefined;
    const version = readFileSync(marker, 'utf8').trim();
    const pidFile = `/var/lib/postgresql/${version}/main/postmaster.pid`;
    if (!existsSync(pidFile)) return undefined;
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0], 10);
    return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
  };

  return {
    name: 'postgres',
    url,
    version: 'Debian postgresql',
    logPath: paths.log,
    startTimeoutMs: 60_000,
    healthy: () => postgresHealthy(maintenanceUrl(url)),
    pid: ourPid,

    async install(say: Say) {
      if (clusterVersion() !== undefined) return;
      await ensurePackages(['postgresql'], say);
      const version = clusterVersion();
      if (version === undefined)
        throw new LogFlowError('LF_ERR_SERVICE_UNAVAILABLE', 'postgresql installed but no cluster');
      // A fresh Debian cluster asks for passwords on TCP; LogFlow's default URL has none (trust on loopback only).
      const hba = join(CONF_ROOT, version, 'main', 'pg_hba.conf');
      const current = await readFile(hba, 'utf8');
      if (!current.includes('# logflow: trust loopback')) {
        await writeFile(
          hba,
          `# logflow: trust loopback\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n${current}`,
        );
      }
    },

    async start(say: Say) {
      const version = clusterVersion();
      if (version === undefined)
        throw new LogFlowError('LF_ERR_SERVICE_UNAVAILABLE', 'no PostgreSQL cluster installed');
      await mkdir(paths.dir, { recursive: true });
      say(`postgres: starting cluster ${version}/main`);
      const result = await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], {
        log: paths.log,
      });
      if (result.code !== 0) {
        throw new LogFlowError(
          'LF_ERR_SERVICE_UNAVAILABLE',
          `pg_ctlcluster ${version} main start failed; see ${paths.log}`,
        );
      }
      await writeFile(marker, `${version}\n`);
    },

    async ready(say: Say) {
      const client = new pg.Client({ connectionString: maintenanceUrl(url) });
      await client.connect();
      try {
        const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        if (found.rowCount === 0) {
          say(`postgres: creating database ${database}`);
          // Identifiers cannot be bound parameters; the name comes from our own default URL.
          await client
            .query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`)
            .catch((err: { code?: string }) => {
              if (err.code !== '42P04') throw err; // created concurrently by another `up`
            });
        }
      } finally {
        await client.end();
      }
    },

    async stop(say: Say) {
      if (ourPid() === undefined) return false;
      const version = readFileSync(marker, 'utf8').trim();
      say(`postgres: stopping cluster ${version}/main`);
      await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'stop'], { log: paths.log });
      await rm(marker, { force: true });
      return true;
    },
  };
}
