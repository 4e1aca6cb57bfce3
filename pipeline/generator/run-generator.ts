/**
 * Runs the generator against a clock: writes `rate` events per second to a file or stream, in
 * batches (one write per tick carries every event that fell due since the last one) so the rate
 * holds at tens of thousands per second, waiting for `drain` so a slow reader throttles us
 * instead of growing memory.
 */
import { once } from 'node:events';
import { createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { formatLog, type LogFormat } from './formats.ts';
import { createLogFactory, type GeneratedLog } from './log-factory.ts';

export interface GeneratorOptions {
  format?: LogFormat;
  /** Events per second; 0 means as fast as the output accepts. Default 10. */
  rate?: number;
  /** Stop after this many events (bursts included). */
  count?: number;
  /** Stop after this long. */
  durationMs?: number;
  /** Every this many ms, a burst of ERRORs from one service; 0 = no bursts. Default 0. */
  burstIntervalMs?: number;
  /** Events per burst, written on top of the steady rate. Default 25. */
  burstSize?: number;
  seed?: number;
  /** A file path (appended to) or a stream; default stdout. */
  output?: string | Writable;
  /**
   * Virtual clock: event i gets `startTime + i * 1000 / rate` instead of the wall clock, so a
   * seeded run is byte-for-byte reproducible.
   */
  startTime?: number;
  /** Called every `progressIntervalMs` (default 5000) while running. */
  onProgress?: (stats: GeneratorStats) => void;
  progressIntervalMs?: number;
  /**
   * File output only: once the file reaches this size, rotate it by rename like logrotate
   * (`app.log` → `app.log.1` → … → `app.log.<keepFiles>`, the oldest deleted) and start a new one.
   * Keeps a long-running embedded demo from filling the disk. 0 = never (default).
   */
  rotateBytes?: number;
  /** Rotated files kept. Default 3. */
  keepFiles?: number;
  /** Called with every event, e.g. by benches that measure latency from append. */
  onEvent?: (log: GeneratedLog) => void;
}

export interface GeneratorStats {
  events: number;
  lines: number;
  bytes: number;
  bursts: number;
  /** File rotations done (`rotateBytes`). */
  rotations: number;
  byLevel: Record<string, number>;
  byService: Record<string, number>;
  elapsedMs: number;
  /** Set when the output failed (e.g. EPIPE) and the run ended early because of it. */
  outputError?: string;
}

/**
 * A running generator. `done` settles when the count/duration is reached (or after `stop()`);
 * `stop()` is idempotent and resolves once the last batch is flushed and a file output closed.
 */
export interface RunningGenerator {
  readonly done: Promise<GeneratorStats>;
  stop(): Promise<GeneratorStats>;
  stats(): GeneratorStats;
}

const MAX_EVENTS_PER_TICK = 20_000;
const TICK_MS = 10;

export function startGenerator(options: GeneratorOptions = {}): RunningGenerator {
  const format = options.format ?? 'text';
  const rate = options.rate ?? 10;
  const burstIntervalMs = options.burstIntervalMs ?? 0;
  const burstSize = options.burstSize ?? 25;
  const factory = createLogFactory({ seed: options.seed });
  const ownsOutput = typeof options.output === 'string';
  let out: Writable =
    typeof options.output === 'string'
      ? createWriteStream(options.output, { flags: 'a' })
      : (options.output ?? process.stdout);

  const stats: GeneratorStats = {
    events: 0,
    lines: 0,
    bytes: 0,
    bursts: 0,
    rotations: 0,
    byLevel: {},
    byService: {},
    elapsedMs: 0,
  };
  const started = Date.now();
  let nextBurst = burstIntervalMs > 0 ? started + burstIntervalMs : Number.POSITIVE_INFINITY;
  let extraDue = 0;
  let stopping = false;
  let wake: (() => void) | undefined;

  const timestampOf = (i: number) =>
    options.startTime !== undefined
      ? options.startTime + Math.floor((i * 1000) / (rate || 1000))
      : Date.now();

  const progressTimer = options.onProgress
    ? setInterval(() => options.onProgress?.(snapshot()), options.progressIntervalMs ?? 5000)
    : undefined;
  progressTimer?.unref();

  function snapshot(): GeneratorStats {
    return {
      ...stats,
      byLevel: { ...stats.byLevel },
      byService: { ...stats.byService },
      elapsedMs: Date.now() - started,
    };
  }

  // A closed output (EPIPE on `generate | head`, a deleted disk…) ends the run instead of crashing it.
  let outputError: Error | undefined;
  const onError = (err: Error) => {
    outputError = err;
    stopping = true;
    wake?.();
  };
  out.on('error', onError);
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        out.off('drain', done);
        out.off('close', done);
        wake = undefined;
        resolve();
      };
      out.once('drain', done);
      out.once('close', done);
      wake = done;
    });

  const rotateBytes = options.rotateBytes ?? 0;
  let fileBytes = 0;
  if (rotateBytes > 0 && typeof options.output === 'string') {
    try {
      fileBytes = statSync(options.output).size;
    } catch {
      fileBytes = 0;
    }
  }

  async function rotate(path: string): Promise<void> {
    out.off('error', onError);
    out.end();
    await once(out, 'close');
    const keep = Math.max(1, options.keepFiles ?? 3);
    rmSync(`${path}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) {
      try {
        renameSync(`${path}.${i}`, `${path}.${i + 1}`);
      } catch {
        // not there yet
      }
    }
    renameSync(path, `${path}.1`);
    out = createWriteStream(path, { flags: 'a' });
    out.on('error', onError);
    fileBytes = 0;
    stats.rotations++;
  }

  async function loop(): Promise<void> {
    let last = false;
    while (!stopping && !last) {
      const now = Date.now();
      let elapsed = now - started;
      if (options.durationMs !== undefined && elapsed >= options.durationMs) {
        // One last batch so that exactly rate × duration events are written.
        elapsed = options.durationMs;
        last = true;
      }
      if (options.count !== undefined && stats.events >= options.count) break;
      if (now >= nextBurst) {
        factory.startBurst(burstSize);
        stats.bursts++;
        extraDue += burstSize;
        nextBurst += burstIntervalMs;
      }
      let due =
        rate > 0 ? Math.floor((rate * elapsed) / 1000) + extraDue - stats.events : MAX_EVENTS_PER_TICK;
      if (options.count !== undefined) due = Math.min(due, options.count - stats.events);
      due = Math.min(due, MAX_EVENTS_PER_TICK);
      if (due > 0) {
        let chunk = '';
        for (let i = 0; i < due; i++) {
          const log = factory.next(timestampOf(stats.events));
          options.onEvent?.(log);
          chunk += formatLog(log, format);
          stats.events++;
          stats.lines += 1 + (format === 'text' && log.stack ? log.stack.length : 0);
          stats.byLevel[log.level] = (stats.byLevel[log.level] ?? 0) + 1;
          stats.byService[log.service] = (stats.byService[log.service] ?? 0) + 1;
        }
        stats.bytes += Buffer.byteLength(chunk);
        if (!out.write(chunk) && !stopping) await drained();
        if (rotateBytes > 0 && typeof options.output === 'string') {
          fileBytes += Buffer.byteLength(chunk);
          if (fileBytes >= rotateBytes) await rotate(options.output);
        }
        if (rate <= 0) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, TICK_MS);
      });
    }
  }

  const done = (async () => {
    try {
      await loop();
    } finally {
      if (progressTimer) clearInterval(progressTimer);
      if (ownsOutput && !outputError) {
        out.end();
        await once(out, 'close');
      }
      out.off('error', onError);
    }
    return { ...snapshot(), ...(outputError ? { outputError: outputError.message } : {}) };
  })();

  return {
    done,
    stats: snapshot,
    async stop() {
      stopping = true;
      wake?.();
      return done;
    },
  };
}

/** Appends `count` events to `path` as fast as possible (benches, fixtures). */
export async function writeLogs(
  path: string,
  count: number,
  options: Omit<GeneratorOptions, 'output' | 'count' | 'rate'> = {},
): Promise<GeneratorStats> {
  return startGenerator({ ...options, output: path, count, rate: 0 }).done;
}

/** `count` events as formatted strings (each ends with `\n`; text stack traces span lines). */
export function generateLogLines(
  count: number,
  options: { format?: LogFormat; seed?: number; startTime?: number; intervalMs?: number } = {},
): string[] {
  const factory = createLogFactory({ seed: options.seed });
  const start = options.startTime ?? Date.now();
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(formatLog(factory.next(start + i * (options.intervalMs ?? 1)), options.format ?? 'text'));
  }
  return lines;
}
