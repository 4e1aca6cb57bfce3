import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { DEFAULTS } from '../../common/config.ts';
import { LogFlowError } from '../../common/errors.ts';
import { ensurePackages } from './debian.ts';
import { servicePaths } from './paths.ts';
import { redisHealthy } from './probes.ts';
import { ownedPid, run, stopProcess } from './processes.ts';
import type { ManagedService, Say } from './service.ts';

/**
 * Redis from Debian's redis-server. The running one is used when it answers PING; otherwise one is
 * started on loopback with persistence off (LogFlow's metric windows are rebuilt from Kafka).
 */
export function redisService(home: string): ManagedService {
  const paths = servicePaths(home, 'redis');
  const url = DEFAULTS.redisUrl;
  const port = new URL(url).port || '6379';

  return {
    name: 'redis',
    url,
    version: 'Debian redis-server',
    logPath: paths.log,
    startTimeoutMs: 30_000,
    healthy: () => redisHealthy(url),
    // redis-server rewrites its process title to "redis-server 127.0.0.1:6379".
    pid: () => ownedPid(paths.pidFile, 'redis-server'),

    async install(say: Say) {
      if (existsSync('/usr/bin/redis-server')) return;
      await ensurePackages(['redis-server'], say);
    },

    async start(say: Say) {
      await mkdir(paths.dir, { recursive: true });
      say(`redis: starting on ${url}`);
      const result = await run('redis-server', [
        '--daemonize',
        'yes',
        '--bind',
        '127.0.0.1',
        '-::1',
        '--port',
        port,
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        paths.dir,
        '--pidfile',
        paths.pidFile,
        '--logfile',
        paths.log,
      ]);
      if (result.code !== 0)
        throw new LogFlowError('LF_ERR_SERVICE_UNAVAILABLE', `redis-server failed: ${result.output}`);
    },

    async stop(say: Say) {
      const pid = ownedPid(paths.pidFile, 'redis-server');
      if (pid === undefined) return false;
      say(`redis: stopping pid ${pid}`);
      await stopProcess(pid, paths.pidFile);
      return true;
    },
  };
}
