/**
 * Retries the transactional calls kafkajs leaves to the caller: a transaction started right
 * after the previous one committed can be answered CONCURRENT_TRANSACTIONS (the coordinator is
 * still completing the last one); kafkajs surfaces that and other retriable errors to us.
 */
export function isRetriable(err: unknown): boolean {
  const e = err as
    | { retriable?: boolean; type?: string; message?: string; cause?: { type?: string } }
    | undefined;
  if (!e) return false;
  if (e.retriable === true) return true;
  return /CONCURRENT_TRANSACTIONS/.test(`${e.type ?? ''} ${e.message ?? ''} ${e.cause?.type ?? ''}`);
}

export async function withRetry<T>(op: () => Promise<T>, attempts = 10, baseDelayMs = 20): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (attempt + 1 >= attempts || !isRetriable(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.min(baseDelayMs * 2 ** attempt, 2000)));
    }
  }
}
