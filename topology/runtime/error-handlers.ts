import { describeError, isLogFlowError } from '../../common/errors.ts';
import type { Headers, StreamRecord } from '../record.ts';
import type { IncomingMessage, OutgoingMessage } from '../transport/transport.ts';

export type ErrorKind = 'deserialization' | 'processing' | 'serialization';

/** What a handler decides for one failed record. */
export type ErrorDecision = 'continue' | 'fail' | { deadLetterTopic: string };

export interface ErrorContext {
  kind: ErrorKind;
  error: unknown;
  /** The stage (node name) where it failed; the source node for deserialization errors. */
  stage: string;
  /** The message the failed record came from (absent for records made by punctuators). */
  source?: IncomingMessage;
  /** The record as the failing stage saw it (absent for deserialization errors). */
  record?: StreamRecord<unknown, unknown>;
}

/**
 * How bad records are handled — a fixed decision or a function deciding per record:
 * `continue` (log, count, skip), `fail` (stop the application: the record's offset is not
 * committed, so it is read again after the fix), or dead-letter (write the original bytes, with
 * headers naming the error and the source position, to a topic, and continue).
 */
export type DeserializationErrorHandler = ErrorDecision | ((context: ErrorContext) => ErrorDecision);
export type ProcessingErrorHandler = ErrorDecision | ((context: ErrorContext) => ErrorDecision);

export const ErrorHandlers = {
  continue: 'continue' as const,
  fail: 'fail' as const,
  deadLetter: (topic: string): ErrorDecision => ({ deadLetterTopic: topic }),
};

/** Header names of dead-letter (and late-record) messages. Values are UTF-8 strings. */
export const DLQ_HEADERS = {
  errorMessage: 'logflow.error.message',
  errorCode: 'logflow.error.code',
  errorKind: 'logflow.error.kind',
  stage: 'logflow.error.stage',
  sourceTopic: 'logflow.source.topic',
  sourcePartition: 'logflow.source.partition',
  sourceOffset: 'logflow.source.offset',
} as const;

export function decide(
  handler: DeserializationErrorHandler | ProcessingErrorHandler,
  context: ErrorContext,
): ErrorDecision {
  return typeof handler === 'function' ? handler(context) : handler;
}

export function errorCode(kind: ErrorKind, error: unknown): string {
  if (isLogFlowError(error)) return error.code;
  if (kind === 'deserialization') return 'LF_ERR_SERDE_DESERIALIZE';
  if (kind === 'serialization') return 'LF_ERR_SERDE_SERIALIZE';
  return 'LF_ERR_PROCESSING';
}

/** The dead-letter message: the source's original key/value bytes and headers, plus error headers. */
export function deadLetterMessage(topic: string, context: ErrorContext): OutgoingMessage {
  const source = context.source;
  const headers: Headers = { ...(source?.headers ?? {}) };
  headers[DLQ_HEADERS.errorMessage] = Buffer.from(describeError(context.error));
  headers[DLQ_HEADERS.errorCode] = Buffer.from(errorCode(context.kind, context.error));
  headers[DLQ_HEADERS.errorKind] = Buffer.from(context.kind);
  headers[DLQ_HEADERS.stage] = Buffer.from(context.stage);
  if (source) {
    headers[DLQ_HEADERS.sourceTopic] = Buffer.from(source.topic);
    headers[DLQ_HEADERS.sourcePartition] = Buffer.from(String(source.partition));
    headers[DLQ_HEADERS.sourceOffset] = Buffer.from(String(source.offset));
  }
  return {
    topic,
    key: source?.key ?? null,
    value: source?.value ?? null,
    timestamp: source?.timestamp,
    headers,
  };
}
