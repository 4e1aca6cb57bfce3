/**
 * Dependency checks for GET /health. Each check resolves when the dependency answers and throws
 * (or resolves false) when it does not; `required` ones make the whole service 503.
 */
export interface HealthCheck {
  check: () => Promise<boolean | undefined>;
  /** Default true. */
  required?: boolean;
}

export type HealthChecks = Record<string, HealthCheck>;

export interface DependencyHealth {
  status: 'up' | 'down';
  required: boolean;
  latency_ms: number;
  error?: string;
}

const TIMEOUT_MS = 2_000;

export async function runHealthChecks(checks: HealthChecks): Promise<{
  status: 'ok' | 'degraded' | 'down';
  dependencies: Record<string, DependencyHealth>;
}> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, { check, required = true }]) => {
      const t0 = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        const result = await Promise.race([
          check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
          }),
        ]);
        const health: DependencyHealth = {
          status: result === false ? 'down' : 'up',
          required,
          latency_ms: 0,
        };
        if (result === false) health.error = 'check failed';
        health.latency_ms = Math.round((performance.now() - t0) * 100) / 100;
        return [name, health] as const;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        const latency = Math.round((performance.now() - t0) * 100) / 100;
        return [name, { status: 'down', required, latency_ms: latency, error } as DependencyHealth] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const dependencies = Object.fromEntries(entries);
  const down = entries.filter(([, h]) => h.status === 'down');
  const status = down.some(([, h]) => h.required) ? 'down' : down.length > 0 ? 'degraded' : 'ok';
  return { status, dependencies };
}
