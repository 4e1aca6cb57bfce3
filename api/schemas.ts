import type {} from '@fastify/swagger'; // adds tags/summary to route schemas
import type { FastifyInstance } from 'fastify';
import { LEVELS } from '../storage/logs/types.ts';
import { errorResponseSchema } from './errors.ts';

/** Shared JSON schemas (OpenAPI components), referenced from routes as `{ $ref: 'Name#' }`. */
export const ref = (id: string) => ({ $ref: `${id}#` });

const isoTime = { type: 'string', format: 'date-time' } as const;
const nullableIso = { type: 'string', format: 'date-time', nullable: true } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const countMap = { type: 'object', additionalProperties: { type: 'number' } } as const;

export const levelSchema = { type: 'string', enum: [...LEVELS] } as const;
export const idParam = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'integer', minimum: 1, maximum: 2_147_483_647 } },
} as const;

const schemas = [
  errorResponseSchema,
  {
    $id: 'CountMap',
    ...countMap,
  },
  {
    $id: 'LogDocument',
    type: 'object',
    required: ['id', 'timestamp', 'level', 'service', 'message'],
    properties: {
      id: { type: 'string' },
      timestamp: isoTime,
      level: { type: 'string' },
      service: { type: 'string' },
      message: { type: 'string' },
      source: {
        type: 'object',
        properties: { hostname: { type: 'string' }, file: { type: 'string' } },
      },
      extra_fields: stringMap,
      ingested_at: isoTime,
    },
  },
  {
    $id: 'AlertRule',
    type: 'object',
    properties: {
      id: { type: 'integer' },
      name: { type: 'string' },
      description: { type: 'string', nullable: true },
      service: { type: 'string', nullable: true },
      levels: { type: 'array', items: { type: 'string' } },
      condition: { type: 'string', enum: ['count_above', 'error_rate_above', 'absence'] },
      threshold: { type: 'number' },
      recovery_threshold: { type: 'number', nullable: true },
      window_seconds: { type: 'integer' },
      for_seconds: { type: 'integer' },
      keep_firing_seconds: { type: 'integer' },
      severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
      labels: stringMap,
      enabled: { type: 'boolean' },
      targets: {
        type: 'array',
        items: {
          type: 'object',
          properties: { url: { type: 'string' }, format: { type: 'string', enum: ['json', 'slack'] } },
        },
      },
      created_at: isoTime,
      updated_at: isoTime,
    },
  },
  {
    $id: 'TriggeredAlert',
    type: 'object',
    properties: {
      id: { type: 'integer' },
      rule_id: { type: 'integer' },
      rule_name: { type: 'string' },
      fingerprint: { type: 'string' },
      status: { type: 'string', enum: ['firing', 'resolved', 'acknowledged'] },
      severity: { type: 'string' },
      service: { type: 'string', nullable: true },
      value: { type: 'number' },
      threshold: { type: 'number' },
      labels: stringMap,
      started_at: isoTime,
      resolved_at: nullableIso,
      acknowledged_by: { type: 'string', nullable: true },
      acknowledged_at: nullableIso,
    },
  },
  {
    $id: 'Silence',
    type: 'object',
    properties: {
      id: { type: 'integer' },
      rule_id: { type: 'integer', nullable: true },
      service: { type: 'string', nullable: true },
      starts_at: isoTime,
      ends_at: isoTime,
      comment: { type: 'string', nullable: true },
      created_by: { type: 'string' },
      active: { type: 'boolean' },
    },
  },
  {
    $id: 'User',
    type: 'object',
    description: 'A user as the API shows it (never the password hash).',
    properties: {
      id: { type: 'integer' },
      username: { type: 'string' },
      email: { type: 'string', nullable: true },
      role: { type: 'string', enum: ['admin', 'viewer'] },
      created_at: isoTime,
      last_login_at: nullableIso,
    },
  },
  {
    $id: 'ApiKey',
    type: 'object',
    properties: {
      id: { type: 'integer' },
      name: { type: 'string' },
      prefix: { type: 'string' },
      role: { type: 'string', enum: ['admin', 'viewer'] },
      created_by: { type: 'string' },
      created_at: isoTime,
      last_used_at: nullableIso,
      expires_at: nullableIso,
    },
  },
];

export function addSharedSchemas(app: FastifyInstance): void {
  for (const schema of schemas) app.addSchema(schema);
}
