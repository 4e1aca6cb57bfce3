/**
 * Maps kafkajs errors to LogFlowError, keeping kafkajs' own `retriable` verdict and the original
 * error as `cause`, so callers branch on one error type whichever transport they run on.
 */
import { type ErrorCode, LogFlowError } from '../../common/errors.ts';

interface KafkaJsErrorLike {
  name?: string;
  message?: string;
  type?: string;
  retriable?: boolean;
}

const UNAVAILABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
  'KafkaJSRequestTimeoutError',
  'KafkaJSLockTimeout',
  'KafkaJSMetadataNotLoaded',
]);

/** Protocol errors after which this producer can never succeed again (another instance took over). */
export const FENCED_TYPES = new Set([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

/** Group-membership errors met while the group re-forms or its coordinator moves: transient. */
export const REBALANCE_TYPES = [
  'UNKNOWN_MEMBER_ID',
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
];

export function isKafkaErrorType(err: unknown, type: string): boolean {
  let e = err as (KafkaJsErrorLike & { cause?: unknown; originalError?: unknown }) | undefined;
  // kafkajs wraps protocol errors in retry errors; look through the chain.
  for (let depth = 0; e && depth < 5; depth++) {
    if (e.type === type) return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

export function toLogFlowError(err: unknown, action: string, code?: ErrorCode): LogFlowError {
  if (err instanceof LogFlowError) return err;
  const e = (err ?? {}) as KafkaJsErrorLike;
  const fenced = [...FENCED_TYPES].some((t) => isKafkaErrorType(err, t));
  // Read by the transport-neutral `isRebalanceError` (transport.ts).
  const rebalance = REBALANCE_TYPES.some((t) => isKafkaErrorType(err, t));
  let chosen: ErrorCode = code ?? 'LF_ERR_TRANSPORT_UNAVAILABLE';
  if (
    !code &&
    (e.type === 'UNKNOWN_TOPIC_OR_PARTITION' || isKafkaErrorType(err, 'UNKNOWN_TOPIC_OR_PARTITION'))
  ) {
    chosen = 'LF_ERR_TRANSPORT_UNKNOWN_TOPIC';
  }
  const retriable = !fenced && (e.retriable === true || UNAVAILABLE_NAMES.has(e.name ?? ''));
  const what = e.type ? `${e.type}: ${e.message}` : (e.message ?? String(err));
  return new LogFlowError(chosen, `kafka ${action} failed: ${what}`, {
    retriable,
    cause: err,
    details: fenced ? { fenced: true } : rebalance ? { rebalance: true } : undefined,
  });
}
