import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createLogFactory,
  formatJson,
  formatText,
  generateLogLines,
  SERVICES,
  startGenerator,
  writeLogs,
} from '../../../pipeline/generator/index.ts';
import { parseRawLog } from '../../../pipeline/parse/index.ts';

const TEXT_LINE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (INFO|WARN|ERROR|DEBUG) \[([a-z-]+)\] \S.*$/;
const CONTINUATION = /^(\s+(at |\.\.\.)|Caused by: )/;

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

describe('log factory', () => {
  it('follows the seed level mix INFO 70 / WARN 15 / ERROR 10 / DEBUG 5 and the five services', () => {
    const factory = createLogFactory({ seed: 42 });
    const n = 50_000;
    const levels: Record<string, number> = {};
    const services: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const log = factory.next(0);
      levels[log.level] = (levels[log.level] ?? 0) + 1;
      services[log.service] = (services[log.service] ?? 0) + 1;
    }
    const share = (l: string) => (levels[l] ?? 0) / n;
    expect(share('INFO')).toBeCloseTo(0.7, 1);
    expect(Math.abs(share('INFO') - 0.7)).toBeLessThan(0.01);
    expect(Math.abs(share('WARN') - 0.15)).toBeLessThan(0.01);
    expect(Math.abs(share('ERROR') - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(share('DEBUG') - 0.05)).toBeLessThan(0.01);
    expect(Object.keys(services).sort()).toEqual([...SERVICES].sort());
    for (const s of SERVICES) expect(Math.abs(services[s] / n - 0.2)).toBeLessThan(0.015);
  });

  it('is reproducible with a seed and differs across seeds', () => {
    const a = generateLogLines(200, { seed: 1, startTime: 0 });
    const b = generateLogLines(200, { seed: 1, startTime: 0 });
    const c = generateLogLines(200, { seed: 2, startTime: 0 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('a burst forces ERRORs from one service', () => {
    const factory = createLogFactory({ seed: 3 });
    const service = factory.startBurst(30);
    const burst = Array.from({ length: 30 }, () => factory.next(0));
    expect(burst.every((l) => l.level === 'ERROR' && l.service === service)).toBe(true);
    const after = Array.from({ length: 200 }, () => factory.next(0));
    expect(new Set(after.map((l) => l.level)).size).toBeGreaterThan(1);
  });

  it('messages carry ids, error codes, latencies and stack traces', () => {
    const factory = createLogFactory({ seed: 9 });
    const logs = Array.from({ length: 5000 }, () => factory.next(Date.UTC(2025, 9, 23, 14, 32, 15)));
    const errors = logs.filter((l) => l.level === 'ERROR');
    expect(errors.every((l) => /^E\d{3,}$/.test(String(l.fields.error_code)))).toBe(true);
    expect(logs.some((l) => 'latency_ms' in l.fields)).toBe(true);
    expect(logs.some((l) => /order_\d{5}/.test(l.message))).toBe(true);
    expect(logs.some((l) => /user_\d{4}/.test(l.message))).toBe(true);
    const traced = logs.filter((l) => l.stack);
    expect(traced.length).toBeGreaterThan(0);
    expect(traced.every((l) => l.level === 'ERROR')).toBe(true);
  });
});

describe('formats', () => {
  const log = {
    timestamp: Date.UTC(2025, 9, 23, 14, 32, 15),
    level: 'INFO' as const,
    service: 'payment-service' as const,
    message: 'Payment completed for order order_45231',
    fields: {},
  };

  it('text is exactly the seed format', () => {
    expect(formatText(log)).toBe(
      '2025-10-23 14:32:15 INFO [payment-service] Payment completed for order order_45231\n',
    );
    expect(formatText({ ...log, fields: { latency_ms: 123, note: 'a b' } })).toBe(
      '2025-10-23 14:32:15 INFO [payment-service] Payment completed for order order_45231 latency_ms=123 note="a b"\n',
    );
  });

  it('json has the seed keys first, fields as properties, one line', () => {
    const line = formatJson({ ...log, level: 'ERROR', fields: { error_code: 'E503' }, stack: ['    at x'] });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trimEnd().includes('\n')).toBe(false);
    const doc = JSON.parse(line);
    expect(Object.keys(doc).slice(0, 4)).toEqual(['timestamp', 'level', 'service', 'message']);
    expect(doc).toMatchObject({
      timestamp: '2025-10-23 14:32:15',
      level: 'ERROR',
      error_code: 'E503',
      stack_trace: '    at x',
    });
  });

  it('every generated text line is a header or a stack-trace continuation, and parses back', () => {
    const meta = { source: 'h', file_path: 'f', shipper_timestamp: 0, service: 'app' };
    for (const chunk of generateLogLines(3000, { seed: 5, startTime: Date.UTC(2025, 0, 1) })) {
      const [head, ...rest] = chunk.trimEnd().split('\n');
      expect(head).toMatch(TEXT_LINE);
      for (const l of rest) expect(l).toMatch(CONTINUATION);
      const parsed = parseRawLog({ raw_log: chunk.trimEnd(), metadata: meta }, 0);
      expect(parsed.level).not.toBe('UNKNOWN');
      expect(parsed.timestamp).toBeGreaterThanOrEqual(Date.UTC(2025, 0, 1));
    }
    for (const chunk of generateLogLines(500, { seed: 5, format: 'json' })) {
      expect(parseRawLog({ raw_log: chunk.trimEnd(), metadata: meta }, 0).level).not.toBe('UNKNOWN');
    }
  });
});

describe('startGenerator', () => {
  it('writes exactly --count events to a file, with bursts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gen-'));
    dirs.push(dir);
    const file = join(dir, 'app.log');
    const stats = await writeLogs(file, 20_000, { seed: 11, format: 'json' });
    expect(stats.events).toBe(20_000);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(20_000);
    expect(stats.bytes).toBe(readFileSync(file).length);
  });

  it('paces by rate and stops on stop(), reporting progress', async () => {
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    const progress: number[] = [];
    const gen = startGenerator({
      output: sink,
      rate: 2000,
      burstIntervalMs: 50,
      burstSize: 5,
      seed: 1,
      onProgress: (s) => progress.push(s.events),
      progressIntervalMs: 20,
    });
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (gen.stats().events >= 400) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    const stats = await gen.stop();
    expect(await gen.stop()).toEqual(stats); // idempotent
    expect(stats.bursts).toBeGreaterThan(0);
    expect(
      chunks
        .join('')
        .split('\n')
        .filter((l) => TEXT_LINE.test(l)),
    ).toHaveLength(stats.events);
    expect(progress.length).toBeGreaterThan(0);
    // Never ahead of the clock: steady events are bounded by rate × elapsed (+ bursts).
    expect(stats.events).toBeLessThanOrEqual((2000 * stats.elapsedMs) / 1000 + stats.bursts * 5 + 1);
  });

  it('ends the run, without throwing, when the output fails (EPIPE)', async () => {
    let writes = 0;
    const sink = new Writable({
      highWaterMark: 16,
      write(_chunk, _enc, cb) {
        writes++;
        cb(writes > 2 ? Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) : null);
      },
    });
    const stats = await startGenerator({ output: sink, rate: 0, seed: 1 }).done;
    expect(stats.outputError).toContain('EPIPE');
  });

  it('writes exactly rate × duration events', async () => {
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    const stats = await startGenerator({ output: sink, rate: 500, durationMs: 200, seed: 2, format: 'json' })
      .done;
    expect(stats.events).toBe(100);
    expect(chunks.join('').trimEnd().split('\n')).toHaveLength(100);
  });
});
