import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { buildAggregateTopology } from '../../../pipeline/aggregate/aggregate-topology.ts';
import { type PartialCounts, preAggregator } from '../../../pipeline/aggregate/pre-aggregator.ts';
import type { ParsedLog } from '../../../storage/logs/types.ts';
import type { MetricWindow } from '../../../storage/metrics/types.ts';
import { HOUR_MS, MINUTE_MS, windowStartOf } from '../../../storage/metrics/windows.ts';
import { Serdes, TopologyTestDriver } from '../../../topology/index.ts';

const config = loadConfig({});
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const LEVELS = ['INFO', 'INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG', 'FATAL'] as const;
const SERVICES = ['payment-service', 'auth-service', 'user-service'];

let seq = 0;
function log(service: string, level: ParsedLog['level'], timestamp: number): ParsedLog {
  return {
    id: `id-${seq++}`,
    timestamp,
    level,
    service,
    message: 'm',
    source: { hostname: 'h', file: 'f' },
    extra_fields: {},
    ingested_at: timestamp,
  };
}

/** A deterministic PRNG so a failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const drivers: TopologyTestDriver[] = [];
afterEach(() => {
  for (const d of drivers.splice(0)) d.close();
});

function setup(options: { emitIntervalMs?: number; graceMs?: number } = {}) {
  const topology = buildAggregateTopology(
    config,
    { parsed: Serdes.Json<ParsedLog>(), metrics: Serdes.Json<MetricWindow>() },
    options,
  );
  const driver = new TopologyTestDriver(topology, { initialWallClockTimeMs: T0 });
  drivers.push(driver);
  const input = driver.createInputTopic(config.topics.parsed, Serdes.String(), Serdes.Json<ParsedLog>());
  const output = driver.createOutputTopic(
    config.topics.metrics,
    Serdes.String(),
    Serdes.Json<MetricWindow>(),
  );
  return { driver, input, output };
}

/** The newest version of every (resolution, service, window) among the emitted updates. */
function latest(records: { key: string; value: MetricWindow }[]): Map<string, MetricWindow> {
  const out = new Map<string, MetricWindow>();
  for (const { key, value } of records) {
    expect(key).toBe(value.service);
    const id = `${value.resolution}|${value.service}|${value.window_start}`;
    const prev = out.get(id);
    if (prev) expect(value.version).toBeGreaterThan(prev.version);
    if (!prev || prev.version < value.version) out.set(id, value);
  }
  return out;
}

function recount(logs: ParsedLog[], resolution: '1m' | '1h'): Map<string, Record<string, number>> {
  const size = resolution === '1m' ? MINUTE_MS : HOUR_MS;
  const out = new Map<string, Record<string, number>>();
  for (const l of logs) {
    const id = `${resolution}|${l.service}|${windowStartOf(l.timestamp, size)}`;
    const counts = out.get(id) ?? {};
    counts[l.level] = (counts[l.level] ?? 0) + 1;
    out.set(id, counts);
  }
  return out;
}

describe('aggregate topology (test driver)', () => {
  it('counts per service, level and window equal a brute-force recount, for 1m and 1h windows', () => {
    const { driver, input, output } = setup();
    const random = rng(42);
    const logs: ParsedLog[] = [];
    let t = T0;
    for (let i = 0; i < 3000; i++) {
      t += Math.floor(random() * 2500); // ~2 hours of logs, slightly out of order below
      const jitter = Math.floor(random() * 5000);
      const l = log(
        SERVICES[Math.floor(random() * 3)],
        LEVELS[Math.floor(random() * LEVELS.length)],
        t - jitter,
      );
      logs.push(l);
      input.pipeInput(l.id, l, l.timestamp);
      if (i % 100 === 0) driver.advanceWallClockTime(1000);
    }
    driver.advanceWallClockTime(2000);
    const emitted = latest(output.readKeyValuesToList().map(([key, value]) => ({ key, value })));
    for (const resolution of ['1m', '1h'] as const) {
      const expected = recount(logs, resolution);
      const got = new Map(
        [...emitted].filter(([, w]) => w.resolution === resolution).map(([id, w]) => [id, w.counts]),
      );
      expect(got).toEqual(expected);
    }
    const sample = [...emitted.values()].find((w) => w.resolution === '1m')!;
    expect(sample.window_end - sample.window_start).toBe(MINUTE_MS);
    expect(sample.total).toBe(Object.values(sample.counts).reduce((a, b) => a + b, 0));
    expect(sample.version).toBe(sample.total);
    expect(sample.error_rate).toBeCloseTo(
      ((sample.counts.ERROR ?? 0) + (sample.counts.FATAL ?? 0)) / sample.total,
    );
  });

  it('coalesces updates: one record per window per flush, nothing before the flush', () => {
    const { driver, input, output } = setup({ emitIntervalMs: 1000 });
    for (let i = 0; i < 50; i++)
      input.pipeInput('k', log('payment-service', 'ERROR', T0 + i * 100), T0 + i * 100);
    expect(output.isEmpty()).toBe(true);
    driver.advanceWallClockTime(1000);
    const records = output.readValuesToList();
    expect(records.map((w) => [w.resolution, w.total])).toEqual([
      ['1m', 50],
      ['1h', 50],
    ]);
    driver.advanceWallClockTime(1000);
    expect(output.isEmpty()).toBe(true);
  });

  it('with emitIntervalMs 0 emits every update, versions strictly increasing', () => {
    const { input, output } = setup({ emitIntervalMs: 0 });
    for (let i = 0; i < 5; i++) input.pipeInput('k', log('auth-service', 'INFO', T0 + i), T0 + i);
    const minute = output.readValuesToList().filter((w) => w.resolution === '1m');
    expect(minute.map((w) => w.version)).toEqual([1, 2, 3, 4, 5]);
  });

  it('the pre-aggregator combines a batch into one partial count per service and minute, at flush', () => {
    const forwarded: [string, PartialCounts, number][] = [];
    let flush = () => {};
    const processor = preAggregator()();
    processor.init?.({
      onFlush: (cb: () => void) => {
        flush = cb;
      },
      forward: (r: { key: string; value: PartialCounts; timestamp: number }) =>
        forwarded.push([r.key, r.value, r.timestamp]),
    } as never);
    const logs = [
      log('a', 'INFO', T0 + 1),
      log('a', 'ERROR', T0 + 2),
      log('a', 'INFO', T0 + MINUTE_MS + 1),
      log('b', 'WARN', T0 + 3),
      log('a', 'INFO', T0 + 4),
    ];
    for (const l of logs)
      processor.process({
        key: l.id,
        value: l,
        timestamp: l.timestamp,
        headers: {},
        topic: 'in',
        partition: 0,
        offset: 0,
      });
    expect(forwarded).toEqual([]);
    flush();
    expect(forwarded).toEqual([
      ['a', { window_start: T0, counts: { INFO: 2, ERROR: 1 } }, T0],
      ['a', { window_start: T0 + MINUTE_MS, counts: { INFO: 1 } }, T0 + MINUTE_MS],
      ['b', { window_start: T0, counts: { WARN: 1 } }, T0],
    ]);
    flush();
    expect(forwarded).toHaveLength(3);
  });

  it('counts a late log within grace, and drops one after grace (reported late)', () => {
    // Stream time moves in minutes here: partial counts carry their minute's start as timestamp.
    const { driver, input, output } = setup({ graceMs: 10_000 });
    input.pipeInput('k', log('svc', 'INFO', T0 + 30_000), T0 + 30_000);
    input.pipeInput('k', log('svc', 'INFO', T0 + MINUTE_MS + 5_000), T0 + MINUTE_MS + 5_000); // stream time 1:00
    input.pipeInput('k', log('svc', 'ERROR', T0 + 59_000), T0 + 59_000); // window ends 1:00 + 10 s grace: counted
    input.pipeInput('k', log('svc', 'INFO', T0 + 2 * MINUTE_MS + 1_000), T0 + 2 * MINUTE_MS + 1_000); // stream time 2:00
    input.pipeInput('k', log('svc', 'ERROR', T0 + 59_500), T0 + 59_500); // after grace: dropped
    driver.advanceWallClockTime(1000);
    const emitted = latest(output.readKeyValuesToList().map(([key, value]) => ({ key, value })));
    expect(emitted.get(`1m|svc|${T0}`)?.counts).toEqual({ INFO: 1, ERROR: 1 });
    expect(emitted.get(`1m|svc|${T0 + MINUTE_MS}`)?.counts).toEqual({ INFO: 1 });
    expect(emitted.get(`1m|svc|${T0 + 2 * MINUTE_MS}`)?.counts).toEqual({ INFO: 1 });
    // the hourly rollup (1 h grace) still counts the late one
    expect(emitted.get(`1h|svc|${T0}`)?.total).toBe(5);
  });
});
