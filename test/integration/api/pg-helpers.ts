import pg from 'pg';
import { DEFAULTS } from '../../../common/config.ts';
import { randomName } from '../../helpers/names.ts';

/** The PostgreSQL server the integration tests use (DATABASE_URL's server, or the default). */
export function serverUrl(): URL {
  return new URL(process.env.DATABASE_URL ?? DEFAULTS.databaseUrl);
}

/**
 * A fresh, empty database for one test file; `drop()` removes it (forcing out connections).
 * openPostgresDatabase creates it on first connect, so migrations really run from empty.
 */
export function randomDatabase(): { url: string; drop: () => Promise<void> } {
  const url = serverUrl();
  const name = randomName('lf_test').replace(/-/g, '_');
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const admin = serverUrl();
      admin.pathname = '/postgres';
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
