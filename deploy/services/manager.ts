import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogFlowError } from '../../common/errors.ts';
import { elasticsearchService } from './elasticsearch.ts';
import { kafkaService } from './kafka.ts';
import { servicesHome } from './paths.ts';
import { postgresService } from './postgres.ts';
import { isAlive, rssMiB } from './processes.ts';
import { redisService } from './redis.ts';
import { schemaRegistryService } from './schema-registry.ts';
import type { ManagedService, Say, ServiceName } from './service.ts';

export const SERVICE_NAMES: ServiceName[] = [
  'postgres',
  'redis',
  'kafka',
  'schema-registry',
  'elasticsearch',
];

export function allServices(home = servicesHome()): ManagedService[] {
  return [
    postgresService(home),
    redisService(home),
    kafkaService(home),
    schemaRegistryService(home),
    elasticsearchService(home),
  ];
}

function select(names: string[], home: string): ManagedService[] {
  const services = allServices(home);
  if (names.length === 0) return services;
  const unknown = names.filter((n) => !SERVICE_NAMES.includes(n as ServiceName));
  if (unknown.length > 0) {
    throw new LogFlowError(
      'LF_ERR_CONFIG_INVALID',
      `unknown service(s): ${unknown.join(', ')}; known: ${SERVICE_NAMES.join(', ')}`,
    );
  }
  return services.filter((s) => names.includes(s.name));
}

export interface ServiceStatus {
  name: ServiceName;
  url: string;
  version: string;
  healthy: boolean;
  /** Pid of the process this project started; undefined for a service someone else runs. */
  pid: number | undefined;
  rssMiB: number | undefined;
  log: string;
}

export async function status(names: string[] = [], home = servicesHome()): Promise<ServiceStatus[]> {
  return Promise.all(
    select(names, home).map(async (s) => {
      const pid = s.pid();
      return {
        name: s.name,
        url: s.url,
        version: s.version,
        healthy: await s.healthy(),
        pid,
        rssMiB: pid === undefined ? undefined : rssMiB(pid),
        log: s.logPath,
      };
    }),
  );
}

export interface UpResult {
  name: ServiceName;
  /** 'running' = was already healthy; 'started' = started now. */
  outcome: 'running' | 'started' | 'failed';
  /** From launch to healthy, for services started now. */
  startMs?: number;
  rssMiB?: number;
  error?: string;
}

/**
 * One `up` or `down` at a time on this machine: two concurrent `up`s (a test run and a developer,
 * or two checkouts) would otherwise both see "not running" and start two brokers on one port.
 * The lock is machine-wide because the ports are.
 */
async function withLock<T>(home: string, say: Say, body: () => Promise<T>): Promise<T> {
  await mkdir(home, { recursive: true });
  const lock = join(tmpdir(), 'logflow-services.lock');
  const deadline = Date.now() + 15 * 60_000;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(existsSync(lock) ? readFileSync(lock, 'utf8') : '', 10);
      if (!Number.isInteger(holder) || !isAlive(holder)) {
        await rm(lock, { force: true }); // left by a process that died
        continue;
      }
      if (Date.now() > deadline)
        throw new LogFlowError('LF_ERR_SERVICE_UNAVAILABLE', `${lock} held by pid ${holder}`);
      if (!told) say(`waiting for another \`logflow services\` (pid ${holder}) to finish`);
      told = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await body();
  } finally {
    await rm(lock, { force: true });
  }
}

async function waitHealthy(service: ManagedService): Promise<void> {
  const deadline = Date.now() + service.startTimeoutMs;
  const hadPid = service.pid() !== undefined;
  for (;;) {
    if (await service.healthy()) return;
    // A process that died will never become healthy: say so now instead of at the deadline.
    if (hadPid && service.pid() === undefined) {
      throw new LogFlowError(
        'LF_ERR_SERVICE_UNAVAILABLE',
        `${service.name} exited while starting; see ${service.logPath}`,
      );
    }
    if (Date.now() > deadline) {
      throw new LogFlowError(
        'LF_ERR_SERVICE_UNAVAILABLE',
        `${service.name} not healthy after ${service.startTimeoutMs / 1000} s; see ${service.logPath}`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Makes the named services (all by default) healthy: those already answering are left alone, the
 * rest are installed (cached artifacts make this a no-op), started in parallel and polled until
 * healthy. Never throws for one service's failure: each result says what happened.
 */
export async function up(
  names: string[] = [],
  say: Say = console.log,
  home = servicesHome(),
): Promise<UpResult[]> {
  const services = select(names, home);
  return withLock(home, say, async () => {
    const health = await Promise.all(services.map((s) => s.healthy()));
    const results = new Map<ServiceName, UpResult>();
    const toStart: ManagedService[] = [];
    services.forEach((s, i) => {
      if (health[i]) results.set(s.name, { name: s.name, outcome: 'running' });
      else toStart.push(s);
    });

    // Installs one after the other: several `mvn` runs writing ~/.m2 at once can corrupt it.
    const installed: ManagedService[] = [];
    for (const s of toStart) {
      try {
        await mkdir(`${home}/${s.name}`, { recursive: true });
        await s.install(say);
        installed.push(s);
      } catch (err) {
        results.set(s.name, { name: s.name, outcome: 'failed', error: (err as Error).message });
      }
    }

    await Promise.all(
      installed.map(async (s) => {
        const t0 = Date.now();
        try {
          if (s.pid() === undefined) await s.start(say);
          else say(`${s.name}: pid ${s.pid()} is already starting; waiting for it`);
          await waitHealthy(s);
          const startMs = Date.now() - t0;
          const pid = s.pid();
          if (pid === undefined) {
            // Healthy, but our process is gone: another instance (another checkout?) holds the port.
            say(`${s.name}: answered by a process not started from ${home}`);
          }
          const rss = pid === undefined ? undefined : rssMiB(pid);
          say(
            `${s.name}: healthy after ${(startMs / 1000).toFixed(1)} s${rss === undefined ? '' : `, RSS ${rss} MiB`}`,
          );
          results.set(s.name, { name: s.name, outcome: 'started', startMs, rssMiB: rss });
        } catch (err) {
          results.set(s.name, { name: s.name, outcome: 'failed', error: (err as Error).message });
        }
      }),
    );

    for (const s of services) {
      const result = results.get(s.name)!;
      if (result.outcome === 'failed' || !s.ready) continue;
      try {
        await s.ready(say);
      } catch (err) {
        results.set(s.name, { ...result, outcome: 'failed', error: (err as Error).message });
      }
    }
    return services.map((s) => results.get(s.name)!);
  });
}

/** Stops the named services (all by default) that this project started; others are left running. */
export async function down(
  names: string[] = [],
  say: Say = console.log,
  home = servicesHome(),
): Promise<ServiceName[]> {
  const services = select(names, home).reverse();
  return withLock(home, say, async () => {
    const stopped: ServiceName[] = [];
    for (const s of services) {
      if (await s.stop(say)) stopped.push(s.name);
      else say(`${s.name}: not started by logflow, left alone`);
    }
    return stopped;
  });
}
