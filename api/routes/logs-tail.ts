import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { LogFlowError } from '../../common/errors.ts';
import { LEVELS, type LogDocument } from '../../storage/logs/types.ts';
import { splitList } from '../filters.ts';
import { matchesTailFilter, type TailFilter, type TailSource } from '../tail.ts';

export interface TailRouteOptions {
  tail?: TailSource;
  heartbeatMs: number;
}

// A client that stops reading must not make the server buffer without bound: beyond this many
// bytes waiting in the socket, logs are dropped and the client is told how many.
const MAX_BUFFERED_BYTES = 1 << 20;

/**
 * GET /api/v1/logs/tail — Server-Sent Events: `event: log` with a LogDocument per matching log,
 * `event: dropped` when a slow client missed some, and a comment line every heartbeat so proxies
 * keep the connection open. Ends when the client disconnects or the server closes.
 */
export function registerTailRoute(
  app: FastifyInstance,
  opts: TailRouteOptions,
  filterQueryProps: Record<string, unknown>,
): void {
  const open = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  app.get<{ Querystring: { query?: string; services?: string[]; levels?: string[]; access_token?: string } }>(
    '/api/v1/logs/tail',
    {
      config: { queryToken: true },
      schema: {
        tags: ['logs'],
        summary: 'Live tail as Server-Sent Events (event: log); EventSource may pass ?access_token=',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            query: filterQueryProps.query,
            services: filterQueryProps.services,
            levels: filterQueryProps.levels,
            access_token: { type: 'string', maxLength: 4096 },
          },
        },
        response: { 200: { type: 'string', description: 'text/event-stream' } },
      },
    },
    async (request, reply) => {
      const source = opts.tail;
      if (!source)
        throw new LogFlowError('LF_ERR_SERVICE_UNAVAILABLE', 'Live tail is not available in this process');
      const filter: TailFilter = {
        query: request.query.query?.trim() || undefined,
        services: splitList(request.query.services, 'services'),
        levels: splitList(request.query.levels, 'levels', LEVELS),
      };
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 3000\n: connected\n\n');
      open.add(res);
      let dropped = 0;
      const send = (log: LogDocument) => {
        if (!matchesTailFilter(filter, log)) return;
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          dropped++;
          return;
        }
        if (dropped > 0) {
          res.write(`event: dropped\ndata: {"count":${dropped}}\n\n`);
          dropped = 0;
        }
        res.write(`id: ${log.id}\nevent: log\ndata: ${JSON.stringify(log)}\n\n`);
      };
      const unsubscribe = source.subscribe(filter, send);
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), opts.heartbeatMs);
      let closed = false;
      const cleanup = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(res);
      };
      request.raw.on('close', cleanup);
      res.on('close', cleanup);
    },
  );
}
