import type { FastifyError, FastifyInstance } from 'fastify';
import { ERROR_CODES, type ErrorCode, isLogFlowError, LogFlowError } from '../common/errors.ts';
import { INTERVAL_NAMES, TIME_RANGE_NAMES } from './time.ts';

/** The body of every non-2xx answer. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details: unknown;
}

export const errorResponseSchema = {
  $id: 'ErrorResponse',
  type: 'object',
  description: 'Every non-2xx answer has this shape; codes are listed in the README.',
  required: ['code', 'message', 'details'],
  properties: {
    code: { type: 'string', enum: Object.keys(ERROR_CODES) },
    message: { type: 'string' },
    details: {},
  },
} as const;

// fastify's own 4xx errors (bad JSON, wrong content type, body too large…) by status.
const BY_STATUS: Record<number, ErrorCode> = {
  400: 'LF_ERR_BAD_REQUEST',
  401: 'LF_ERR_AUTH_REQUIRED',
  403: 'LF_ERR_FORBIDDEN',
  404: 'LF_ERR_NOT_FOUND',
  409: 'LF_ERR_CONFLICT',
  413: 'LF_ERR_PAYLOAD_TOO_LARGE',
  415: 'LF_ERR_UNSUPPORTED_MEDIA_TYPE',
  429: 'LF_ERR_RATE_LIMITED',
};

const RANGE_PARAMS = new Set(['/time_range', '/interval']);

interface ValidationIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Turns anything thrown in a request into a status and the error body; never leaks a stack. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; log: boolean } {
  if (isLogFlowError(err)) {
    return {
      status: err.status,
      body: { code: err.code, message: err.message, details: err.details ?? null },
      log: err.status === 500,
    };
  }
  const fe = err as FastifyError & { validation?: ValidationIssue[] };
  if (Array.isArray(fe.validation)) {
    const issues = fe.validation.map((v) => ({
      in: fe.validationContext ?? 'request',
      path: v.instancePath ?? '',
      keyword: v.keyword,
      message: v.message,
      params: v.params,
    }));
    const range = fe.validation.find(
      (v) =>
        fe.validationContext === 'querystring' &&
        v.keyword === 'enum' &&
        RANGE_PARAMS.has(v.instancePath ?? ''),
    );
    if (range) {
      return {
        status: 400,
        body: {
          code: 'LF_ERR_UNSUPPORTED_RANGE',
          message: `Unsupported ${range.instancePath?.slice(1)}`,
          details: { supported_time_ranges: TIME_RANGE_NAMES, supported_intervals: INTERVAL_NAMES, issues },
        },
        log: false,
      };
    }
    return {
      status: 400,
      body: {
        code: 'LF_ERR_VALIDATION',
        message: `Invalid ${fe.validationContext ?? 'request'}: ${fe.message}`,
        details: issues,
      },
      log: false,
    };
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  const code = BY_STATUS[status];
  if (code && status < 500) {
    return {
      status,
      body: { code, message: fe.message || ERROR_CODES[code].message, details: null },
      log: false,
    };
  }
  return {
    status: 500,
    body: { code: 'LF_ERR_INTERNAL', message: ERROR_CODES.LF_ERR_INTERNAL.message, details: null },
    log: true,
  };
}

/** A 400 LF_ERR_VALIDATION for checks JSON schema cannot express. */
export function invalid(message: string, details: unknown = null): LogFlowError {
  return new LogFlowError('LF_ERR_VALIDATION', message, { details });
}

export function notFound(what: string): LogFlowError {
  return new LogFlowError('LF_ERR_NOT_FOUND', `${what} not found`);
}

export async function registerErrorHandling(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((err, request, reply) => {
    const { status, body, log } = toErrorResponse(err);
    if (log) request.log.error({ err }, 'request failed');
    if (status === 429 && !reply.getHeader('retry-after')) reply.header('retry-after', '60');
    return reply.code(status).type('application/json').send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      code: 'LF_ERR_NOT_FOUND',
      message: `Route ${request.method} ${request.url.split('?')[0]} not found`,
      details: null,
    } satisfies ErrorBody);
  });
}
