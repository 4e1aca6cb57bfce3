import pino, { type Logger } from 'pino';

/**
 * Structured logs (pino, JSON lines on stderr so stdout stays free for command output).
 * `LOG_LEVEL` sets the level; tests default to `warn` to keep their output readable.
 */
const level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'warn' : 'info');

export const rootLogger: Logger = pino({ level, base: { app: 'logflow' } }, pino.destination(2));

export function createLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ component, ...bindings });
}

export type { Logger };
