/**
 * The aggregate stage killed with -9 in the middle of its input and restarted: its windows,
 * restored from the changelogs with exactly-once processing, still equal a brute-force recount.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildAggregateTopology } from '../../../pipeline/aggregate/aggregate-topology.ts';
import type { ParsedLog } from '../../../storage/logs/types.ts';
import type { MetricWindow } from '../../../storage/metrics/types.ts';
import { HOUR_MS, MINUTE_MS, windowStartOf } from '../../../storage/metrics/windows.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import {
  type PipelineFixture,
  parsedLog,
  pipelineFixture,
  prepareInternalTopics,
} from './pipeline-helpers.ts';

const CHILD = fileURLToPath(new URL('./aggregate-child.ts', import.meta.url));

function startChild(appId: string, f: PipelineFixture): Promise<ChildProcess> {
  // node itself (not the tsx wrapper) so SIGKILL hits the process that runs the stage.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, appId, f.config.topics.parsed, f.config.topics.metrics],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'warn' },
    },
  );
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  child.stderr?.resume(); // its logs are not needed; never let a full pipe stall it
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('RUNNING') && resolve(child));
    child.once('exit', (code) => reject(new Error(`aggregate child exited with ${code}`)));
  });
}

async function latestWindows(f: PipelineFixture): Promise<Map<string, MetricWindow>> {
  const out = new Map<string, MetricWindow>();
  for (let p = 0; p < f.config.partitions; p++) {
    for await (const batch of f.transport.readPartition(f.config.topics.metrics, p, 0)) {
      for (const m of batch) {
        const w = await f.serdes.metrics.deserialize(f.config.topics.metrics, m.value);
        const id = `${w.resolution}|${w.service}|${w.window_start}`;
        if ((out.get(id)?.version ?? -1) < w.version) out.set(id, w);
      }
    }
  }
  return out;
}

function recount(logs: ParsedLog[]): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const [resolution, size] of [
    ['1m', MINUTE_MS],
    ['1h', HOUR_MS],
  ] as const) {
    for (const l of logs) {
      const id = `${resolution}|${l.service}|${windowStartOf(l.timestamp, size)}`;
      const counts = out.get(id) ?? {};
      counts[l.level] = (counts[l.level] ?? 0) + 1;
      out.set(id, counts);
    }
  }
  return out;
}

describe('aggregate stage crash and restart (kill -9, real Kafka)', () => {
  it('keeps counts equal to a recount of logs-parsed', async () => {
    const f = await pipelineFixture(3);
    const appId = `${f.config.topics.parsed}-agg`;
    await prepareInternalTopics(f.transport, buildAggregateTopology(f.config, f.serdes), appId, 3);
    const services = [
      'payment-service',
      'auth-service',
      'user-service',
      'order-service',
      'inventory-service',
    ];
    const levels = ['INFO', 'INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG'] as const;
    const start = Date.now() - 4 * MINUTE_MS;
    const logs = Array.from({ length: 40_000 }, (_, i) =>
      parsedLog(services[i % 5], levels[(i * 7) % levels.length], start + Math.floor(i * 6)),
    );
    const first = logs.slice(0, 25_000);
    const second = logs.slice(25_000);
    await f.produceLogs(first);

    const child = await startChild(appId, f);
    // Kill it as soon as it has emitted something, i.e. in the middle of the first half.
    await waitFor(async () => (await latestWindows(f)).size > 0, {
      what: 'first windows',
      timeoutMs: 60_000,
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await f.produceLogs(second);

    await startChild(appId, f);
    const expected = recount(logs);
    await waitFor(
      async () => {
        const got = await latestWindows(f);
        let total = 0;
        for (const w of got.values()) if (w.resolution === '1m') total += w.total;
        return total >= logs.length;
      },
      { what: 'all logs counted', timeoutMs: 150_000, intervalMs: 1000 },
    );
    const got = await latestWindows(f);
    expect(new Map([...got].map(([id, w]) => [id, w.counts]))).toEqual(expected);
  });
});
