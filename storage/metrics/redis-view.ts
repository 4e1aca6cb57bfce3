/**
 * The distributed mode's metric view, written by the Redis materialiser and read by the API.
 *
 * Layout (prefix default `lf:`):
 *   `<prefix>m:<res>:<service>`  sorted set, score = window_start, one member per window:
 *                                JSON {s, e, v, t, c} (start, end, version, total, counts)
 *   `<prefix>m:services`         sorted set, member = service, score = newest window_start seen
 * A read of any range is one ZRANGEBYSCORE per service, pipelined: two round trips for all
 * services (the service list, then the ranges), one for a single service. Totals over whole
 * hours read their 1h rollups (see totalsByService), with a third round trip only for hours
 * some service has no rollup for.
 *
 * Writes go through a Lua script that replaces a window only when the new version is higher, so
 * replays and out-of-order updates are idempotent; it also trims windows past the resolution's
 * retention and sets a TTL, so memory stays bounded (1m ≈ 2 days, 1h ≈ 31 days).
 *
 * Lifecycle: `createRedisMetricsView()` connects lazily; `close()` quits the connection and is idempotent.
 */
import { Redis } from 'ioredis';
import { LogFlowError } from '../../common/errors.ts';
import { ClosedWindowCache } from './closed-window-cache.ts';
import { planRange, rollupSeries, type ServiceTotals, totalsByService, type WindowRange } from './rollup.ts';
import type { MetricPoint, MetricResolution, MetricsView, MetricWindow } from './types.ts';
import { HOUR_MS, RESOLUTION_MS, RESOLUTION_RETENTION_MS } from './windows.ts';

export interface RedisMetricsViewOptions {
  url: string;
  /** Key prefix (tests use a random one). Default `lf:`. */
  prefix?: string;
  now?: () => number;
  /**
   * How far behind its service's newest window a 1m window must be to be final and cached in
   * this process (see closed-window-cache.ts). Default 1 h; must exceed the aggregate stage's
   * grace plus a minute. 0 turns the cache off.
   */
  closedAfterMs?: number;
}

/** What one read needs to know of the view: its services with their newest window, its marker. */
interface ViewState {
  newest: Map<string, number>;
  marker: string | null;
}

// KEYS: window key, services key. ARGV: window_start, version, member, service, retention ms,
// now ms, services retention ms.
const UPSERT_SCRIPT = `
local start = tonumber(ARGV[1])
local now = tonumber(ARGV[6])
local retention = tonumber(ARGV[5])
if start < now - retention then return 0 end
local current = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])
for _, member in ipairs(current) do
  local ok, obj = pcall(cjson.decode, member)
  if ok and tonumber(obj.v) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. tostring(now - retention))
redis.call('PEXPIRE', KEYS[1], retention)
local seen = redis.call('ZSCORE', KEYS[2], ARGV[4])
if (not seen) or tonumber(seen) < start then redis.call('ZADD', KEYS[2], ARGV[1], ARGV[4]) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. tostring(now - tonumber(ARGV[7])))
redis.call('PEXPIRE', KEYS[2], ARGV[7])
return 1
`;

interface StoredWindow {
  s: number;
  e: number;
  v: number;
  t: number;
  c: Record<string, number>;
}

type ScriptRedis = Redis & {
  lfUpsertWindow(windowKey: string, servicesKey: string, ...args: (string | number)[]): Promise<number>;
};

export class RedisMetricsView implements MetricsView {
  readonly kind = 'redis' as const;
  readonly prefix: string;
  private readonly redis: ScriptRedis;
  private readonly now: () => number;
  private readonly closedAfterMs: number;
  private readonly cache = new ClosedWindowCache();
  private closed = false;

  constructor(options: RedisMetricsViewOptions) {
    this.prefix = options.prefix ?? 'lf:';
    this.now = options.now ?? Date.now;
    this.closedAfterMs = options.closedAfterMs ?? HOUR_MS;
    const redis = new Redis(options.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 3,
      enableReadyCheck: true,
    });
    redis.defineCommand('lfUpsertWindow', { numberOfKeys: 2, lua: UPSERT_SCRIPT });
    redis.on('error', () => {
      // Errors surface on the commands that fail; the event only needs a listener so ioredis
      // does not print unhandled-error warnings while it reconnects.
    });
    this.redis = redis as ScriptRedis;
  }

  windowKey(resolution: MetricResolution, service: string): string {
    return `${this.prefix}m:${resolution}:${service}`;
  }

  get servicesKey(): string {
    return `${this.prefix}m:services`;
  }

  /** Set once the materialiser rebuilt the view from the topic; gone after a FLUSHALL or clear(). */
  get markerKey(): string {
    return `${this.prefix}m:materialised`;
  }

  async isMaterialised(): Promise<boolean> {
    return (await this.run(() => this.redis.exists(this.markerKey))) === 1;
  }

  async markMaterialised(): Promise<void> {
    await this.run(() => this.redis.set(this.markerKey, String(this.now())));
  }

  async upsert(windows: MetricWindow[]): Promise<void> {
    if (windows.length === 0) return;
    const now = this.now();
    const pipeline = this.redis.pipeline() as ReturnType<Redis['pipeline']> & {
      lfUpsertWindow(...args: (string | number)[]): unknown;
    };
    for (const w of windows) {
      const resolution = w.resolution ?? '1m';
      const member: StoredWindow = {
        s: w.window_start,
        e: w.window_end,
        v: w.version,
        t: w.total,
        c: w.counts,
      };
      pipeline.lfUpsertWindow(
        this.windowKey(resolution, w.service),
        this.servicesKey,
        w.window_start,
        w.version,
        JSON.stringify(member),
        w.service,
        RESOLUTION_RETENTION_MS[resolution],
        now,
        RESOLUTION_RETENTION_MS['1h'],
      );
    }
    const results = await this.run(() => pipeline.exec());
    const failed = (results ?? []).find(([err]) => err);
    if (failed)
      throw new LogFlowError('LF_ERR_SERVICE_UNAVAILABLE', 'Redis rejected a window update', {
        cause: failed[0],
        retriable: true,
      });
  }

  async series(from: number, to: number, bucketMs: number, service?: string): Promise<MetricPoint[]> {
    const plan = planRange(from, to, bucketMs, this.now());
    const windows = await this.fetch(plan.resolution, plan.fromWindow, to, service);
    return rollupSeries(windows, plan);
  }

  async byService(from: number, to: number): Promise<ServiceTotals> {
    const state = await this.state();
    const services = [...state.newest.keys()];
    return totalsByService(from, to, this.now(), services, (ranges) =>
      this.fetchRanges(ranges, services, state),
    );
  }

  async services(): Promise<string[]> {
    const names = await this.run(() => this.redis.zrange(this.servicesKey, 0, -1));
    return names.sort();
  }

  /** The services (sorted) with their newest window start, and the materialised marker: one round trip. */
  private async state(): Promise<ViewState> {
    const results =
      (await this.run(() =>
        this.redis.pipeline().zrange(this.servicesKey, 0, -1, 'WITHSCORES').get(this.markerKey).exec(),
      )) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw unavailable(failed[0]);
    const flat = results[0][1] as string[];
    const pairs: [string, number][] = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], Number(flat[i + 1])]);
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const marker = results[1][1] as string | null;
    this.cache.validate(marker);
    return { newest: new Map(pairs), marker };
  }

  async clear(): Promise<void> {
    this.cache.clear();
    let cursor = '0';
    do {
      const [next, keys] = await this.run(() =>
        this.redis.scan(cursor, 'MATCH', `${this.prefix}m:*`, 'COUNT', 500),
      );
      cursor = next;
      if (keys.length > 0) await this.run(() => this.redis.unlink(...keys));
    } while (cursor !== '0');
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.run(() => this.redis.ping())) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** Windows of `resolution` with window_start in [from, to): one service, or all of them pipelined. */
  private async fetch(
    resolution: MetricResolution,
    from: number,
    to: number,
    service?: string,
  ): Promise<MetricWindow[]> {
    const state = await this.state();
    const services = service !== undefined ? [service] : [...state.newest.keys()];
    return (await this.fetchRanges([{ resolution, from, to }], services, state))[0];
  }

  /**
   * Each range's windows (of its service, or of every one of `services`), in one pipeline.
   * Final 1m windows come from the cache, and only the rest of each range is read.
   */
  private async fetchRanges(
    ranges: WindowRange[],
    services: readonly string[],
    state: ViewState,
  ): Promise<MetricWindow[][]> {
    const pipeline = this.redis.pipeline();
    const out: MetricWindow[][] = ranges.map(() => []);
    const reads: {
      range: number;
      service: string;
      resolution: MetricResolution;
      from: number;
      to: number;
    }[] = [];
    ranges.forEach((range, i) => {
      if (range.from >= range.to) return;
      for (const name of range.service !== undefined ? [range.service] : services) {
        let from = range.from;
        if (this.cacheable(range.resolution)) {
          const hit = this.cache.lookup(this.windowKey(range.resolution, name), range.from, range.to);
          out[i].push(...hit.cached);
          from = hit.readFrom;
          if (from >= range.to) continue;
        }
        pipeline.zrangebyscore(this.windowKey(range.resolution, name), from, `(${range.to}`);
        reads.push({ range: i, service: name, resolution: range.resolution, from, to: range.to });
      }
    });
    if (reads.length === 0) return out;
    const results = (await this.run(() => pipeline.exec())) ?? [];
    const keepFrom = this.now() - RESOLUTION_RETENTION_MS['1m'];
    results.forEach(([err, members], i) => {
      if (err) throw unavailable(err);
      const read = reads[i];
      const windows = (members as string[]).map((m) => decode(read.service, read.resolution, m));
      out[read.range].push(...windows);
      const newest = state.newest.get(read.service);
      if (this.cacheable(read.resolution) && newest !== undefined) {
        const key = this.windowKey(read.resolution, read.service);
        this.cache.store(key, read.from, read.to, windows, newest - this.closedAfterMs, keepFrom);
      }
    });
    return out;
  }

  private cacheable(resolution: MetricResolution): boolean {
    return resolution === '1m' && this.closedAfterMs > 0;
  }

  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof LogFlowError) throw err;
      throw new LogFlowError('LF_ERR_SERVICE_UNAVAILABLE', `Redis: ${(err as Error).message}`, {
        cause: err,
        retriable: true,
      });
    }
  }
}

function unavailable(cause: unknown): LogFlowError {
  return new LogFlowError('LF_ERR_SERVICE_UNAVAILABLE', 'Redis read failed', { cause, retriable: true });
}

function decode(service: string, resolution: MetricResolution, member: string): MetricWindow {
  const w = JSON.parse(member) as StoredWindow;
  return {
    service,
    window_start: w.s,
    window_end: w.e ?? w.s + RESOLUTION_MS[resolution],
    counts: w.c,
    total: w.t,
    error_rate: w.t ? ((w.c.ERROR ?? 0) + (w.c.FATAL ?? 0)) / w.t : 0,
    version: w.v,
    resolution,
  };
}
