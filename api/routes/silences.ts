import type { FastifyInstance } from 'fastify';
import type { Database, Silence, SilenceInput } from '../../storage/db/types.ts';
import { principalOf } from '../auth/plugin.ts';
import { invalid, notFound } from '../errors.ts';
import { namedPlugin } from '../plugin.ts';
import { idParam, ref } from '../schemas.ts';
import { parseTime, timeSchema } from '../time.ts';

interface SilenceBody {
  rule_id?: number | null;
  service?: string | null;
  starts_at?: string;
  ends_at?: string;
  duration_seconds?: number;
  comment?: string | null;
}

const MAX_SILENCE_MS = 365 * 86_400_000;

const silenceBody = {
  type: 'object',
  additionalProperties: false,
  description: 'Mute a rule or a service: give rule_id and/or service, and ends_at or duration_seconds',
  properties: {
    rule_id: { type: 'integer', minimum: 1, maximum: 2_147_483_647, nullable: true },
    service: { type: 'string', minLength: 1, maxLength: 200, nullable: true },
    starts_at: { ...timeSchema, description: 'Default: now' },
    ends_at: timeSchema,
    duration_seconds: { type: 'integer', minimum: 1, maximum: MAX_SILENCE_MS / 1000 },
    comment: { type: 'string', maxLength: 2000, nullable: true },
  },
} as const;

export const silencesRoutes = namedPlugin<{ db: Database; now: () => number }>(
  'logflow-silences-routes',
  async (app: FastifyInstance, { db, now }) => {
    const tags = ['alerts'];
    const withActive = (s: Silence) => {
      const t = now();
      return { ...s, active: Date.parse(s.starts_at) <= t && t < Date.parse(s.ends_at) };
    };

    async function toInput(body: SilenceBody, createdBy: string): Promise<SilenceInput> {
      const ruleId = body.rule_id ?? null;
      const service = body.service ?? null;
      if (ruleId === null && service === null) throw invalid('A silence needs rule_id or service');
      if (ruleId !== null && !(await db.alertRules.get(ruleId))) {
        throw invalid(`Alert rule ${ruleId} does not exist`, [{ path: '/rule_id', message: 'unknown rule' }]);
      }
      const start = body.starts_at ? parseTime(body.starts_at, 'starts_at') : now();
      if ((body.ends_at === undefined) === (body.duration_seconds === undefined)) {
        throw invalid('Give exactly one of ends_at and duration_seconds');
      }
      const end = body.ends_at
        ? parseTime(body.ends_at, 'ends_at')
        : start + (body.duration_seconds ?? 0) * 1000;
      if (end <= start) throw invalid('ends_at must be after starts_at');
      if (end - start > MAX_SILENCE_MS) throw invalid('A silence lasts at most 365 days');
      return {
        rule_id: ruleId,
        service,
        starts_at: new Date(start).toISOString(),
        ends_at: new Date(end).toISOString(),
        comment: body.comment ?? null,
        created_by: createdBy,
      };
    }

    app.get<{ Querystring: { active?: boolean } }>(
      '/api/v1/alerts/silences',
      {
        schema: {
          tags,
          summary: 'Silences (active=true: only those in effect now)',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { active: { type: 'boolean' } },
          },
          response: {
            200: {
              type: 'object',
              properties: { total: { type: 'integer' }, silences: { type: 'array', items: ref('Silence') } },
            },
          },
        },
      },
      async (request) => {
        const all = (await db.silences.list()).map(withActive);
        const silences =
          request.query.active === undefined ? all : all.filter((s) => s.active === request.query.active);
        return { total: silences.length, silences };
      },
    );

    app.post<{ Body: SilenceBody }>(
      '/api/v1/alerts/silences',
      {
        config: { role: 'admin' },
        schema: {
          tags,
          summary: 'Mute a rule or a service for a period (admin)',
          body: silenceBody,
          response: { 201: ref('Silence') },
        },
      },
      async (request, reply) => {
        const silence = await db.silences.create(await toInput(request.body, principalOf(request).name));
        return reply.code(201).send(withActive(silence));
      },
    );

    app.get<{ Params: { id: number } }>(
      '/api/v1/alerts/silences/:id',
      { schema: { tags, summary: 'One silence', params: idParam, response: { 200: ref('Silence') } } },
      async (request) => {
        const silence = await db.silences.get(request.params.id);
        if (!silence) throw notFound(`Silence ${request.params.id}`);
        return withActive(silence);
      },
    );

    app.put<{ Params: { id: number }; Body: SilenceBody }>(
      '/api/v1/alerts/silences/:id',
      {
        config: { role: 'admin' },
        schema: {
          tags,
          summary: 'Replace a silence (admin)',
          params: idParam,
          body: silenceBody,
          response: { 200: ref('Silence') },
        },
      },
      async (request) => {
        if (!(await db.silences.get(request.params.id))) throw notFound(`Silence ${request.params.id}`);
        const silence = await db.silences.update(
          request.params.id,
          await toInput(request.body, principalOf(request).name),
        );
        if (!silence) throw notFound(`Silence ${request.params.id}`);
        return withActive(silence);
      },
    );

    app.delete<{ Params: { id: number } }>(
      '/api/v1/alerts/silences/:id',
      {
        config: { role: 'admin' },
        schema: {
          tags,
          summary: 'Delete (expire) a silence (admin)',
          params: idParam,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        if (!(await db.silences.delete(request.params.id))) throw notFound(`Silence ${request.params.id}`);
        return reply.code(204).send();
      },
    );
  },
  ['logflow-auth'],
);
