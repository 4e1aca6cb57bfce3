import type { FastifyInstance } from 'fastify';
import type { LogFlowConfig } from '../../common/config.ts';
import type { Database } from '../../storage/db/types.ts';
import { namedPlugin } from '../plugin.ts';
import { TIME_RANGE_NAMES } from '../time.ts';

/**
 * The settings admins may change at run time (system_config). Readers of these keys:
 * retention_days → the retention job; search_cache_ttl_seconds → the search cache.
 */
export const SETTINGS_SCHEMA = {
  retention_days: { type: 'integer', minimum: 1, maximum: 3650, description: 'Days of logs kept' },
  metrics_retention_days: {
    type: 'integer',
    minimum: 1,
    maximum: 3650,
    description: 'Days of metric windows kept',
  },
  search_cache_ttl_seconds: {
    type: 'integer',
    minimum: 0,
    maximum: 300,
    description: 'Repeated-search cache TTL',
  },
  default_time_range: { type: 'string', enum: TIME_RANGE_NAMES, description: 'UI default time range' },
} as const;

export type Settings = { -readonly [K in keyof typeof SETTINGS_SCHEMA]?: unknown };

export function defaultSettings(config: Pick<LogFlowConfig, 'retentionDays'>): Settings {
  return {
    retention_days: config.retentionDays,
    metrics_retention_days: 30,
    search_cache_ttl_seconds: 5,
    default_time_range: '1h',
  };
}

/** Stored settings over the defaults; only the known keys (never `internal.*`). */
export async function readSettings(
  db: Database,
  config: Pick<LogFlowConfig, 'retentionDays'>,
): Promise<Settings> {
  const stored = await db.systemConfig.getAll();
  const out: Settings = defaultSettings(config);
  for (const key of Object.keys(SETTINGS_SCHEMA) as (keyof Settings)[]) {
    if (key in stored) out[key] = stored[key];
  }
  return out;
}

export const configRoutes = namedPlugin<{
  db: Database;
  config: LogFlowConfig;
  onChange?: (s: Settings) => void;
}>(
  'logflow-config-routes',
  async (app: FastifyInstance, { db, config, onChange }) => {
    const settings = { type: 'object', properties: SETTINGS_SCHEMA } as const;
    onChange?.(await readSettings(db, config));

    app.get(
      '/api/v1/config',
      { schema: { tags: ['config'], summary: 'System settings', response: { 200: settings } } },
      async () => readSettings(db, config),
    );

    app.put<{ Body: Settings }>(
      '/api/v1/config',
      {
        config: { role: 'admin' },
        schema: {
          tags: ['config'],
          summary: 'Change settings (admin); keys not given keep their values',
          body: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: SETTINGS_SCHEMA,
          },
          response: { 200: settings },
        },
      },
      async (request) => {
        for (const [key, value] of Object.entries(request.body)) await db.systemConfig.set(key, value);
        const next = await readSettings(db, config);
        onChange?.(next);
        return next;
      },
    );
  },
  ['logflow-auth'],
);
