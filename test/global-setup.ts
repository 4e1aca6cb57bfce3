/**
 * Global setup of the `integration` project: the real services must answer before any test runs.
 * Whatever is not reachable is started through `logflow services up` (minutes on a cold cache:
 * artifacts come from Maven Central). With CI=true a service that is still unreachable fails the
 * whole run; elsewhere the run goes on and the tests that need it fail on their own — never skip.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DEFAULTS, loadConfig } from '../common/config.ts';
import { PROJECT_ROOT } from '../deploy/services/paths.ts';
import {
  elasticsearchHealthy,
  httpOk,
  kafkaHealthy,
  postgresHealthy,
  redisHealthy,
} from '../deploy/services/probes.ts';

interface Check {
  name: string;
  url: string;
  ok: () => Promise<boolean>;
}

function checks(): Check[] {
  const config = loadConfig();
  return [
    { name: 'postgres', url: config.databaseUrl, ok: () => postgresHealthy(config.databaseUrl) },
    { name: 'redis', url: config.redisUrl, ok: () => redisHealthy(config.redisUrl) },
    {
      name: 'kafka',
      url: config.kafkaBrokers.join(','),
      ok: () => kafkaHealthy(config.kafkaBrokers),
    },
    {
      name: 'schema-registry',
      url: config.schemaRegistryUrl,
      ok: () => httpOk(`${config.schemaRegistryUrl}/subjects`),
    },
    {
      name: 'elasticsearch',
      url: config.elasticsearchUrl,
      ok: () => elasticsearchHealthy(config.elasticsearchUrl),
    },
  ];
}

async function unreachable(list: Check[]): Promise<Check[]> {
  const results = await Promise.all(list.map((c) => c.ok()));
  return list.filter((_, i) => !results[i]);
}

function servicesUp(names: string[]): Promise<number> {
  return new Promise((resolveUp, reject) => {
    const child = spawn(
      process.execPath,
      [join(PROJECT_ROOT, 'bin', 'logflow.js'), 'services', 'up', ...names],
      {
        cwd: PROJECT_ROOT,
        stdio: 'inherit',
      },
    );
    const timer = setTimeout(() => child.kill('SIGTERM'), 20 * 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveUp(code ?? 1);
    });
  });
}

/** Only services at their default URLs are ours to start; a URL set in the environment is someone else's. */
function isDefault(check: Check): boolean {
  const defaults: Record<string, string> = {
    postgres: DEFAULTS.databaseUrl,
    redis: DEFAULTS.redisUrl,
    kafka: DEFAULTS.kafkaBrokers,
    'schema-registry': DEFAULTS.schemaRegistryUrl,
    elasticsearch: DEFAULTS.elasticsearchUrl,
  };
  return defaults[check.name] === check.url;
}

export default async function setup(): Promise<void> {
  let down = await unreachable(checks());
  const startable = down.filter(isDefault);
  if (startable.length > 0) {
    console.log(
      `[global-setup] not reachable: ${startable.map((c) => c.name).join(', ')} — running logflow services up`,
    );
    await servicesUp(startable.map((c) => c.name));
    down = await unreachable(checks());
  }
  if (down.length === 0) return;
  const message = `services unreachable: ${down.map((c) => `${c.name} (${c.url})`).join(', ')}`;
  if (process.env.CI === 'true') {
    throw new Error(`[global-setup] ${message}; see \`node bin/logflow.js services status\``);
  }
  console.warn(`[global-setup] ${message}; tests that need them will fail`);
}
