import { describe, expect, it } from 'vitest';
import { LogFlowError } from '../../../common/errors.ts';
import { toLogFlowError } from '../../../topology/transport/kafka-errors.ts';
import { isRebalanceError } from '../../../topology/transport/transport.ts';

/** The shape kafkajs gives a protocol error wrapped by its retrier. */
function kafkaJsError(type: string) {
  const protocol = Object.assign(new Error(`${type} happened`), { name: 'KafkaJSProtocolError', type });
  return Object.assign(new Error('retries exhausted'), {
    name: 'KafkaJSNumberOfRetriesExceeded',
    originalError: protocol,
  });
}

describe('transport-neutral error classification', () => {
  it('marks group re-forming errors as rebalance, through kafkajs wrappers', () => {
    for (const type of [
      'REBALANCE_IN_PROGRESS',
      'UNKNOWN_MEMBER_ID',
      'ILLEGAL_GENERATION',
      'NOT_COORDINATOR',
    ]) {
      const err = toLogFlowError(kafkaJsError(type), 'commit offsets');
      expect(isRebalanceError(err)).toBe(true);
    }
  });

  it('does not mark other failures', () => {
    expect(isRebalanceError(toLogFlowError(kafkaJsError('OFFSET_METADATA_TOO_LARGE'), 'commit'))).toBe(false);
    expect(isRebalanceError(toLogFlowError(kafkaJsError('PRODUCER_FENCED'), 'commit'))).toBe(false);
    expect(isRebalanceError(new LogFlowError('LF_ERR_PROCESSING', 'boom'))).toBe(false);
    expect(isRebalanceError(undefined)).toBe(false);
    expect(isRebalanceError(new Error('REBALANCE_IN_PROGRESS'))).toBe(false);
  });
});
