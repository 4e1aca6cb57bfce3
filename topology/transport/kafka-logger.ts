/**
 * Routes kafkajs' own logging through pino. kafkajs logs routine events (rebalances, retries)
 * at INFO/ERROR; they go out one level lower so a healthy pipeline's logs stay quiet, and the
 * kafkajs level follows LOG_LEVEL (default warn).
 */
// First: kafkajs must bind the linear per-partition grouping (see the module).
import './kafkajs-linear-grouping.ts';
import { logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';
import { createLogger } from '../../common/logger.ts';

const log = createLogger('kafkajs');

export function kafkaLogLevel(level: string = process.env.LOG_LEVEL ?? 'warn'): KafkaLogLevel {
  switch (level) {
    case 'trace':
    case 'debug':
      return KafkaLogLevel.DEBUG;
    case 'info':
      return KafkaLogLevel.INFO;
    case 'warn':
      return KafkaLogLevel.WARN;
    default:
      return KafkaLogLevel.ERROR;
  }
}

/**
 * Conditions LogFlow or kafkajs retry by design (back-to-back transactions, coordinator moves,
 * rebalances): kafkajs logs each occurrence as an error, which would drown real problems.
 */
const HANDLED =
  /concurrent operation on the same transaction|coordinator is loading|coordinator is not available|not the correct coordinator|rebalanc/i;

export const pinoLogCreator: logCreator =
  () =>
  ({ namespace, level, log: entry }) => {
    const { message, timestamp: _ts, logger: _logger, ...rest } = entry;
    const fields = { namespace, ...rest };
    const handled = HANDLED.test(message) || HANDLED.test(String((rest as { error?: unknown }).error ?? ''));
    if (handled) log.debug(fields, message);
    else if (level === KafkaLogLevel.ERROR) log.warn(fields, message);
    else if (level === KafkaLogLevel.WARN) log.info(fields, message);
    else log.debug(fields, message);
  };
