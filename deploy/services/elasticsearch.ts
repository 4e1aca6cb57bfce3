import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEFAULTS } from '../../common/config.ts';
import { LogFlowError } from '../../common/errors.ts';
import { pickJdk } from './java.ts';
import { fetchArchive } from './maven.ts';
import { artifactsDir, servicePaths } from './paths.ts';
import { elasticsearchHealthy } from './probes.ts';
import { ownedPid, run, stopProcess } from './processes.ts';
import type { ManagedService, Say } from './service.ts';
import { renderTemplate } from './templates.ts';
import { HEAP, JAVA_MIN, VERSIONS } from './versions.ts';

export const ES_HTTP_PORT = 9200;
export const ES_TRANSPORT_PORT = 9300;
/** Elasticsearch refuses to run as root; as root we run it as this system user. */
export const ES_USER = 'logflow-es';

const isRoot = () => process.getuid?.() === 0;

async function ensureUser(say: Say): Promise<void> {
  if ((await run('id', ['-u', ES_USER])).code === 0) return;
  say(`elasticsearch: creating system user ${ES_USER}`);
  const made = await run('useradd', [
    '--system',
    '--user-group',
    '--no-create-home',
    '--home-dir',
    '/nonexistent',
    '--shell',
    '/usr/sbin/nologin',
    ES_USER,
  ]);
  // Another `up` may have created it at the same moment (exit 9: user exists).
  if (made.code !== 0 && made.code !== 9) {
    throw new LogFlowError('LF_ERR_SERVICE_UNAVAILABLE', `useradd ${ES_USER} failed: ${made.output}`);
  }
}

/** Whether every existing ancestor of `dir` lets other users through (mode o+x). */
function othersCanReach(dir: string): boolean {
  for (let p = dir; ; p = dirname(p)) {
    if (existsSync(p) && (statSync(p).mode & 0o001) === 0) return false;
    if (p === dirname(p)) return true;
  }
}

/**
 * Where Elasticsearch's distribution and state live. Normally the services directory; but as root
 * Elasticsearch runs as ES_USER, which cannot enter a checkout under a private directory (a clone
 * in /root, say), so then a directory of its own under /var/lib, one per checkout.
 */
export function elasticsearchRoot(home: string): string {
  if (!isRoot() || othersCanReach(home)) return home;
  return join('/var/lib/logflow-es', createHash('sha256').update(home).digest('hex').slice(0, 12));
}

/**
 * Elasticsearch from the integration-test zip Elastic publishes to Maven Central: the server with
 * only the transport, x-pack core/security and apm modules. What that leaves out (no `GET /`, no
 * analysis-common, painless, ingest, reindex, data streams or ILM) is listed in deploy/services/README.md.
 */
export function elasticsearchService(home: string): ManagedService {
  const root = elasticsearchRoot(home);
  const paths = servicePaths(root, 'elasticsearch');
  const dist = join(artifactsDir(root), `elasticsearch-${VERSIONS.elasticsearch}`);
  const esHome = join(dist, `elasticsearch-${VERSIONS.elasticsearch}`);
  const confDir = join(paths.dir, 'config');
  const dataDir = join(paths.dir, 'data');
  const logsDir = join(paths.dir, 'logs');
  const tmpDir = join(paths.dir, 'tmp');
  const url = `http://127.0.0.1:${ES_HTTP_PORT}`;
  if (url !== DEFAULTS.elasticsearchUrl) {
    throw new LogFlowError(
      'LF_ERR_CONFIG_INVALID',
      `ES URL ${url} differs from the default ${DEFAULTS.elasticsearchUrl}`,
    );
  }

  return {
    name: 'elasticsearch',
    url,
    version: `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${VERSIONS.elasticsearch}`,
    logPath: paths.log,
    startTimeoutMs: 180_000,
    healthy: () => elasticsearchHealthy(url),
    // The server JVM carries -Des.path.home=<our unpacked distribution> on its command line.
    pid: () => ownedPid(paths.pidFile, esHome),

    async install(say: Say) {
      say(`elasticsearch: fetching integ-test-zip ${VERSIONS.elasticsearch}`);
      await fetchArchive(
        `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${VERSIONS.elasticsearch}:zip`,
        dist,
      );
    },

    async start(say: Say) {
      const jdk = pickJdk('elasticsearch', JAVA_MIN.elasticsearch);
      for (const dir of [dataDir, logsDir, tmpDir]) await mkdir(dir, { recursive: true });
      // Our own config dir (ES writes its keystore there), seeded from the distribution once.
      if (!existsSync(join(confDir, 'jvm.options')))
        await cp(join(esHome, 'config'), confDir, { recursive: true });
      await writeFile(
        join(confDir, 'elasticsearch.yml'),
        await renderTemplate('elasticsearch/elasticsearch.yml', {
          DATA_DIR: dataDir,
          LOGS_DIR: logsDir,
          HTTP_PORT: ES_HTTP_PORT,
          TRANSPORT_PORT: ES_TRANSPORT_PORT,
        }),
      );
      await writeFile(
        join(confDir, 'jvm.options.d', 'heap.options'),
        await renderTemplate('elasticsearch/heap.options', { HEAP: HEAP.elasticsearch }),
      );
      // The shipped jvm.options writes gc.log relative to the working directory; keep it with the logs.
      const jvmOptions = join(confDir, 'jvm.options');
      const original = join(esHome, 'config', 'jvm.options');
      await copyFile(original, jvmOptions);
      const options = await readFile(jvmOptions, 'utf8');
      await writeFile(jvmOptions, options.replace('file=gc.log', `file=${join(logsDir, 'gc.log')}`));

      const env = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ES_JAVA_HOME: jdk.home,
        ES_PATH_CONF: confDir,
        ES_TMPDIR: tmpDir,
      };
      // -d daemonizes once the node has bootstrapped and -p makes ES write the server's pid.
      const launch = ['-d', '-p', paths.pidFile];
      let result: Awaited<ReturnType<typeof run>>;
      if (isRoot()) {
        await ensureUser(say);
        const chown = await run('chown', ['-R', `${ES_USER}:${ES_USER}`, paths.dir]);
        if (chown.code !== 0)
          throw new LogFlowError('LF_ERR_SERVICE_UNAVAILABLE', `chown failed: ${chown.output}`);
        say(`elasticsearch: starting on ${url} as ${ES_USER} (Java ${jdk.major})`);
        const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
        result = await run(
          'runuser',
          ['-u', ES_USER, '--', 'env', ...envArgs, join(esHome, 'bin', 'elasticsearch'), ...launch],
          {
            cwd: paths.dir,
            log: paths.log,
          },
        );
      } else {
        say(`elasticsearch: starting on ${url} (Java ${jdk.major})`);
        result = await run(join(esHome, 'bin', 'elasticsearch'), launch, {
          cwd: paths.dir,
          env: { ...process.env, ...env },
          log: paths.log,
        });
      }
      if (result.code !== 0) {
        throw new LogFlowError(
          'LF_ERR_SERVICE_UNAVAILABLE',
          `elasticsearch exited with ${result.code} while starting; see ${paths.log} and ${logsDir}`,
        );
      }
    },

    async stop(say: Say) {
      const pid = ownedPid(paths.pidFile, esHome);
      if (pid === undefined) return false;
      say(`elasticsearch: stopping pid ${pid}`);
      await stopProcess(pid, paths.pidFile, 60_000);
      return true;
    },
  };
}
