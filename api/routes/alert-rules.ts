import type { FastifyInstance } from 'fastify';
import type { AlertRule, AlertRuleInput, Database } from '../../storage/db/types.ts';
import { LEVELS } from '../../storage/logs/types.ts';
import { invalid, notFound } from '../errors.ts';
import { namedPlugin } from '../plugin.ts';
import { idParam, ref } from '../schemas.ts';

const ruleProperties = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  description: { type: 'string', maxLength: 2000, nullable: true },
  service: {
    type: 'string',
    minLength: 1,
    maxLength: 200,
    nullable: true,
    description: 'null = all services',
  },
  levels: {
    type: 'array',
    maxItems: LEVELS.length,
    uniqueItems: true,
    items: { type: 'string', enum: [...LEVELS] },
    description: 'Levels counted by count_above (empty = all)',
  },
  condition: { type: 'string', enum: ['count_above', 'error_rate_above', 'absence'] },
  threshold: { type: 'number', minimum: 0, maximum: 1e12 },
  recovery_threshold: {
    type: 'number',
    minimum: 0,
    maximum: 1e12,
    nullable: true,
    description: 'Resolve only at or below this (hysteresis); default: threshold',
  },
  window_seconds: { type: 'integer', minimum: 10, maximum: 86_400 },
  for_seconds: { type: 'integer', minimum: 0, maximum: 86_400 },
  keep_firing_seconds: { type: 'integer', minimum: 0, maximum: 86_400 },
  severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
  labels: {
    type: 'object',
    maxProperties: 50,
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,99}$' },
    additionalProperties: { type: 'string', maxLength: 500 },
  },
  enabled: { type: 'boolean' },
  targets: {
    type: 'array',
    maxItems: 20,
    items: {
      type: 'object',
      required: ['url'],
      additionalProperties: false,
      properties: {
        url: { type: 'string', maxLength: 2000, pattern: '^https?://[^\\s]+$' },
        format: { type: 'string', enum: ['json', 'slack'] },
      },
    },
  },
} as const;

const REQUIRED = ['name', 'condition', 'threshold', 'window_seconds'];

const DEFAULTS: Omit<AlertRuleInput, 'name' | 'condition' | 'threshold' | 'window_seconds'> = {
  description: null,
  service: null,
  levels: [],
  recovery_threshold: null,
  for_seconds: 0,
  keep_firing_seconds: 0,
  severity: 'warning',
  labels: {},
  enabled: true,
  targets: [],
};

/** What JSON schema cannot say: rates are fractions, recovery sits on the right side of threshold. */
export function checkRule(rule: AlertRuleInput): AlertRuleInput {
  const problems: { path: string; message: string }[] = [];
  if (rule.condition === 'error_rate_above') {
    if (rule.threshold > 1)
      problems.push({ path: '/threshold', message: 'an error rate is between 0 and 1' });
    if (rule.recovery_threshold !== null && rule.recovery_threshold > 1) {
      problems.push({ path: '/recovery_threshold', message: 'an error rate is between 0 and 1' });
    }
  }
  if (
    rule.condition !== 'absence' &&
    rule.recovery_threshold !== null &&
    rule.recovery_threshold > rule.threshold
  ) {
    problems.push({ path: '/recovery_threshold', message: 'must not be above threshold' });
  }
  if (
    rule.condition === 'absence' &&
    rule.recovery_threshold !== null &&
    rule.recovery_threshold < rule.threshold
  ) {
    problems.push({ path: '/recovery_threshold', message: 'must not be below threshold for absence rules' });
  }
  if (problems.length) throw invalid('Invalid alert rule', problems);
  return rule;
}

function toInput(rule: AlertRule): AlertRuleInput {
  const { id: _id, created_at: _c, updated_at: _u, ...input } = rule;
  return input;
}

export const alertRulesRoutes = namedPlugin<{ db: Database }>(
  'logflow-alert-rules-routes',
  async (app: FastifyInstance, { db }) => {
    const body = (required: string[]) => ({
      type: 'object',
      additionalProperties: false,
      required,
      minProperties: 1,
      properties: ruleProperties,
    });
    const tags = ['alerts'];

    app.get(
      '/api/v1/alerts/rules',
      {
        schema: {
          tags,
          summary: 'Every alert rule',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { enabled: { type: 'boolean' } },
          },
          response: {
            200: {
              type: 'object',
              properties: { total: { type: 'integer' }, rules: { type: 'array', items: ref('AlertRule') } },
            },
          },
        },
      },
      async (request) => {
        const rules = await db.alertRules.list(request.query as { enabled?: boolean });
        return { total: rules.length, rules };
      },
    );

    app.post<{ Body: Partial<AlertRuleInput> }>(
      '/api/v1/alerts/rules',
      {
        config: { role: 'admin' },
        schema: {
          tags,
          summary: 'Create a rule (admin)',
          body: body(REQUIRED),
          response: { 201: ref('AlertRule') },
        },
      },
      async (request, reply) => {
        const rule = await db.alertRules.create(
          checkRule({ ...DEFAULTS, ...request.body } as AlertRuleInput),
        );
        return reply.code(201).send(rule);
      },
    );

    app.get<{ Params: { id: number } }>(
      '/api/v1/alerts/rules/:id',
      { schema: { tags, summary: 'One rule', params: idParam, response: { 200: ref('AlertRule') } } },
      async (request) => {
        const rule = await db.alertRules.get(request.params.id);
        if (!rule) throw notFound(`Alert rule ${request.params.id}`);
        return rule;
      },
    );

    app.put<{ Params: { id: number }; Body: Partial<AlertRuleInput> }>(
      '/api/v1/alerts/rules/:id',
      {
        config: { role: 'admin' },
        schema: {
          tags,
          summary: 'Replace a rule (admin); omitted optional fields take their defaults',
          params: idParam,
          body: body(REQUIRED),
          response: { 200: ref('AlertRule') },
        },
      },
      async (request) => {
        const input = checkRule({ ...DEFAULTS, ...request.body } as AlertRuleInput);
        const rule = await db.alertRules.update(request.params.id, input);
        if (!rule) throw notFound(`Alert rule ${request.params.id}`);
        return rule;
      },
    );

    app.patch<{ Params: { id: number }; Body: Partial<AlertRuleInput> }>(
      '/api/v1/alerts/rules/:id',
      {
        config: { role: 'admin' },
        schema: {
          tags,
          summary: 'Change some fields of a rule (admin), e.g. {"enabled": false}',
          params: idParam,
          body: body([]),
          response: { 200: ref('AlertRule') },
        },
      },
      async (request) => {
        const current = await db.alertRules.get(request.params.id);
        if (!current) throw notFound(`Alert rule ${request.params.id}`);
        const rule = await db.alertRules.update(
          request.params.id,
          checkRule({ ...toInput(current), ...request.body }),
        );
        if (!rule) throw notFound(`Alert rule ${request.params.id}`);
        return rule;
      },
    );

    app.delete<{ Params: { id: number } }>(
      '/api/v1/alerts/rules/:id',
      {
        config: { role: 'admin' },
        schema: {
          tags,
          summary: 'Delete a rule (admin)',
          params: idParam,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        if (!(await db.alertRules.delete(request.params.id)))
          throw notFound(`Alert rule ${request.params.id}`);
        return reply.code(204).send();
      },
    );
  },
  ['logflow-auth'],
);
