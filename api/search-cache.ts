import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { LogSearchQuery, LogSearchResult } from '../storage/logs/types.ts';

/**
 * A short-lived cache for repeated identical searches (the seed's Redis cache): dashboards poll the
 * same query every few seconds. Redis in the distributed mode (shared by API instances), an
 * in-process LRU in the embedded mode. A cache failure never fails a search: callers ignore errors.
 */
export interface SearchCache {
  get(key: string): Promise<LogSearchResult | undefined>;
  set(key: string, value: LogSearchResult, ttlMs: number): Promise<void>;
}

/** Stable key for a search: arrays sorted and de-duplicated, keys in fixed order, then SHA-256. */
export function searchCacheKey(query: LogSearchQuery): string {
  const norm = (xs?: string[]) => (xs && xs.length > 0 ? [...new Set(xs)].sort() : null);
  const canonical = [
    query.query?.trim().replace(/\s+/g, ' ').toLowerCase() || null,
    norm(query.services),
    norm(query.levels),
    query.start_time ?? null,
    query.end_time ?? null,
    query.limit,
    query.offset,
    query.cursor ?? null,
  ];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

export class MemorySearchCache implements SearchCache {
  private readonly entries = new Map<string, { value: LogSearchResult; expires: number }>();

  constructor(
    private readonly maxEntries = 500,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<LogSearchResult | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expires <= this.now()) return undefined;
    this.entries.set(key, entry); // most recently used goes last
    return entry.value;
  }

  async set(key: string, value: LogSearchResult, ttlMs: number): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

export class RedisSearchCache implements SearchCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'logflow:search:',
  ) {}

  async get(key: string): Promise<LogSearchResult | undefined> {
    const raw = await this.redis.get(this.prefix + key);
    return raw ? (JSON.parse(raw) as LogSearchResult) : undefined;
  }

  async set(key: string, value: LogSearchResult, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + key, JSON.stringify(value), 'PX', Math.max(1, Math.round(ttlMs)));
  }
}

/**
 * The cache for a mode: Redis (shared by every API instance) in the kafka mode, an in-process LRU
 * in the embedded mode. `close` releases the Redis connection.
 */
export async function createSearchCache(
  config: { mode: 'embedded' | 'kafka'; redisUrl: string },
  prefix = 'logflow:search:',
): Promise<{ cache: SearchCache; close: () => Promise<void> }> {
  if (config.mode !== 'kafka') return { cache: new MemorySearchCache(), close: async () => {} };
  const { Redis } = await import('ioredis');
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
  });
  await redis.connect();
  return {
    cache: new RedisSearchCache(redis, prefix),
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
