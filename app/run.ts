/**
 * Runs a LogFlow process: some pipeline stages and, optionally, the API/UI — all of them for
 * `logflow start`, one for `logflow run <stage>`. Topics are created first; stages start
 * downstream-first so every consumer is ready before data flows, and stop upstream-first so each
 * stage drains what the one before it already produced.
 */
import type { FastifyInstance } from 'fastify';
import { ensureAdmin } from '../api/auth/bootstrap.ts';
import type { HealthChecks } from '../api/health.ts';
import { createSearchCache } from '../api/search-cache.ts';
import { buildServer } from '../api/server.ts';
import { TailHub } from '../api/tail.ts';
import type { LogFlowConfig } from '../common/config.ts';
import { createLogger } from '../common/logger.ts';
import { uiPlugin } from '../ui/plugin.ts';
import { AppContext } from './context.ts';
import { pipelineTopics, type RunningStage, type Stage } from './stages.ts';
import { startTailFeed } from './tail-feed.ts';

export interface AppOptions {
  stages: Stage[];
  /** Serve the API and UI on config.port. */
  api: boolean;
}

export interface RunningApp {
  readonly ctx: AppContext;
  readonly server?: FastifyInstance;
  /** Stops stages upstream-first, then the API, then closes every resource. Idempotent. */
  stop(): Promise<void>;
}

const log = createLogger('app');

function healthChecks(ctx: AppContext): HealthChecks {
  const checks: HealthChecks = {
    search_store: { check: () => ctx.logStore.ping() },
    metrics_view: { check: () => ctx.metricsView.ping() },
    database: { check: async () => (await ctx.db()).ping() },
  };
  if (ctx.config.mode === 'kafka') {
    checks.kafka = { check: async () => (await ctx.transport.partitionCount(ctx.config.topics.parsed)) > 0 };
    checks.schema_registry = {
      check: async () => (await fetch(`${ctx.config.schemaRegistryUrl}/subjects`)).ok,
    };
  }
  return checks;
}

export async function startApp(config: LogFlowConfig, options: AppOptions): Promise<RunningApp> {
  const ctx = new AppContext(config);
  const tail = new TailHub();
  const running: { name: string; stage: RunningStage }[] = [];
  const closers: (() => Promise<void>)[] = [];
  let server: FastifyInstance | undefined;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      for (const { name, stage } of running) {
        await stage.stop().catch((err) => log.error({ err, stage: name }, 'stage did not stop cleanly'));
      }
      await server?.close();
      for (const close of closers) await close().catch(() => {});
      await ctx.close();
    })();
    return stopping;
  };

  try {
    await ctx.transport.ensureTopics(pipelineTopics(ctx));
    for (const stage of [...options.stages].reverse()) {
      log.info({ stage: stage.name }, 'starting stage');
      running.unshift({ name: stage.name, stage: await stage.start(ctx, { tail }) });
    }
    if (options.api) {
      const db = await ctx.db();
      await ensureAdmin(db, config, (message) => console.log(message));
      const cache = await createSearchCache(config);
      closers.push(cache.close);
      // The index stage feeds the tail when it runs here; an API process without it follows logs-parsed.
      if (!options.stages.some((s) => s.name === 'index')) {
        const feed = await startTailFeed(ctx.transport, config.topics.parsed, ctx.serdes.parsed, tail);
        closers.unshift(feed.stop);
      }
      server = buildServer({
        config,
        logStore: ctx.logStore,
        metricsView: ctx.metricsView,
        db,
        registry: ctx.registry,
        tail,
        searchCache: cache.cache,
        healthChecks: healthChecks(ctx),
      });
      await server.register(uiPlugin);
      await server.listen({ host: config.host, port: config.port });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ctx, server, stop };
}
