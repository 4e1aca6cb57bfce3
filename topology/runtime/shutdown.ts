import { createLogger } from '../../common/logger.ts';

const log = createLogger('shutdown');

export interface Closable {
  close(): Promise<void>;
}

/**
 * Closes `closables` (in order) on SIGTERM/SIGINT: each stops fetching, drains in-flight
 * records, commits and closes. A second signal exits at once. Returns a function that removes
 * the handlers (tests, or apps that manage signals themselves).
 */
export function closeOnSignals(
  closables: Closable[],
  { signals = ['SIGTERM', 'SIGINT'] as NodeJS.Signals[], exit = true } = {},
): () => void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    closing = true;
    log.info({ signal }, 'closing');
    void (async () => {
      let code = 0;
      for (const c of closables) {
        try {
          await c.close();
        } catch (err) {
          code = 1;
          log.error({ err }, 'close failed');
        }
      }
      // Keep a failure recorded before the signal (process.exitCode) as the exit status.
      if (exit) process.exit(code || Number(process.exitCode ?? 0));
    })();
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
