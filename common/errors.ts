/**
 * One place makes every LogFlow error. Each has a stable code `LF_ERR_<AREA>_<WHAT>` that the
 * README lists (a test fails when a code here is not documented there), a `retriable` flag that
 * tells callers whether trying again may help, and an optional `cause`.
 */
export const ERROR_CODES = {
  // configuration and topology validation
  LF_ERR_CONFIG_INVALID: { status: 500, message: 'Invalid configuration' },
  LF_ERR_TOPOLOGY_INVALID: { status: 500, message: 'Invalid topology' },
  // serdes and schemas
  LF_ERR_SERDE_DESERIALIZE: { status: 500, message: 'Could not deserialize a record' },
  LF_ERR_SERDE_SERIALIZE: { status: 500, message: 'Could not serialize a record' },
  LF_ERR_SCHEMA_INCOMPATIBLE: {
    status: 409,
    message: 'Schema is not compatible with the registered versions',
  },
  LF_ERR_SCHEMA_NOT_FOUND: { status: 500, message: 'Schema not found' },
  // transports and state
  LF_ERR_TRANSPORT_UNAVAILABLE: { status: 503, message: 'Message transport unavailable' },
  LF_ERR_TRANSPORT_UNKNOWN_TOPIC: { status: 500, message: 'Unknown topic' },
  LF_ERR_STATE_STORE: { status: 500, message: 'State store error' },
  LF_ERR_PROCESSING: { status: 500, message: 'Record processing failed' },
  // services and sinks
  LF_ERR_SERVICE_UNAVAILABLE: { status: 503, message: 'A required service is unavailable' },
  LF_ERR_SINK_REJECTED: { status: 500, message: 'The sink rejected a record' },
  // file shipper
  LF_ERR_SHIPPER_CHECKPOINT: { status: 500, message: 'The shipper checkpoint cannot be read or written' },
  // API
  LF_ERR_VALIDATION: { status: 400, message: 'Request validation failed' },
  LF_ERR_BAD_REQUEST: { status: 400, message: 'Bad request' },
  LF_ERR_UNSUPPORTED_RANGE: { status: 400, message: 'Unsupported time range or interval' },
  LF_ERR_AUTH_REQUIRED: { status: 401, message: 'Authentication required' },
  LF_ERR_AUTH_INVALID: { status: 401, message: 'Invalid credentials or token' },
  LF_ERR_FORBIDDEN: { status: 403, message: 'Not allowed for this role' },
  LF_ERR_NOT_FOUND: { status: 404, message: 'Not found' },
  LF_ERR_CONFLICT: { status: 409, message: 'Conflict' },
  LF_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'Request body too large' },
  LF_ERR_RATE_LIMITED: { status: 429, message: 'Too many requests' },
  LF_ERR_INTERNAL: { status: 500, message: 'Internal error' },
  LF_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type' },
  // database
  LF_ERR_DB_MIGRATION: { status: 500, message: 'A database migration failed' },
  // webhooks
  LF_ERR_WEBHOOK_TARGET_FORBIDDEN: {
    status: 400,
    message: 'Webhook target resolves to a private, loopback or link-local address',
  },
  LF_ERR_WEBHOOK_DELIVERY: { status: 502, message: 'Webhook delivery failed' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface LogFlowErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  details?: unknown;
}

export class LogFlowError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, options: LogFlowErrorOptions = {}) {
    super(message ?? ERROR_CODES[code].message, { cause: options.cause });
    this.name = 'LogFlowError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.details = options.details;
  }

  /** The HTTP status an API answers with when this error reaches a client. */
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export function isLogFlowError(err: unknown): err is LogFlowError {
  return err instanceof LogFlowError;
}

/** A short, single-line description of any thrown value, for logs and dead-letter headers. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
