import type { FastifyInstance } from 'fastify';
import { LogFlowError } from '../../common/errors.ts';
import type { AlertStatus, Database } from '../../storage/db/types.ts';
import { principalOf } from '../auth/plugin.ts';
import { notFound } from '../errors.ts';
import { timeBounds } from '../filters.ts';
import { namedPlugin } from '../plugin.ts';
import { idParam, ref } from '../schemas.ts';
import { timeSchema } from '../time.ts';

interface HistoryQuery {
  status?: AlertStatus;
  rule_id?: number;
  service?: string;
  since?: string;
  until?: string;
  limit: number;
  offset: number;
}

export const alertHistoryRoutes = namedPlugin<{ db: Database; now: () => number }>(
  'logflow-alert-history-routes',
  async (app: FastifyInstance, { db, now }) => {
    const tags = ['alerts'];

    app.get<{ Querystring: HistoryQuery }>(
      '/api/v1/alerts/history',
      {
        schema: {
          tags,
          summary: 'Triggered alerts, newest first, with filters',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              status: { type: 'string', enum: ['firing', 'resolved', 'acknowledged'] },
              rule_id: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
              service: { type: 'string', minLength: 1, maxLength: 200 },
              since: timeSchema,
              until: timeSchema,
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
              offset: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                total: { type: 'integer' },
                alerts: { type: 'array', items: ref('TriggeredAlert') },
              },
            },
          },
        },
      },
      async (request) => {
        const q = request.query;
        const { start, end } = timeBounds({ start_time: q.since, end_time: q.until });
        return db.triggeredAlerts.list({
          status: q.status,
          rule_id: q.rule_id,
          service: q.service,
          since: start === undefined ? undefined : new Date(start).toISOString(),
          until: end === undefined ? undefined : new Date(end).toISOString(),
          limit: q.limit,
          offset: q.offset,
        });
      },
    );

    app.get<{ Params: { id: number } }>(
      '/api/v1/alerts/history/:id',
      {
        schema: {
          tags,
          summary: 'One triggered alert',
          params: idParam,
          response: { 200: ref('TriggeredAlert') },
        },
      },
      async (request) => {
        const alert = await db.triggeredAlerts.get(request.params.id);
        if (!alert) throw notFound(`Alert ${request.params.id}`);
        return alert;
      },
    );

    app.post<{ Params: { id: number } }>(
      '/api/v1/alerts/history/:id/acknowledge',
      {
        config: { role: 'admin' },
        schema: {
          tags,
          summary: 'Acknowledge a firing alert (admin); notifications continue until it resolves',
          params: idParam,
          response: { 200: ref('TriggeredAlert') },
        },
      },
      async (request) => {
        const current = await db.triggeredAlerts.get(request.params.id);
        if (!current) throw notFound(`Alert ${request.params.id}`);
        if (current.status === 'resolved') {
          throw new LogFlowError('LF_ERR_CONFLICT', `Alert ${current.id} is already resolved`);
        }
        const alert = await db.triggeredAlerts.acknowledge(
          current.id,
          principalOf(request).name,
          new Date(now()).toISOString(),
        );
        if (!alert) throw notFound(`Alert ${request.params.id}`);
        return alert;
      },
    );
  },
  ['logflow-auth'],
);
