import { createHash } from 'node:crypto';

/**
 * The stable identity of one alert: a rule evaluated for one service. Rules on all services
 * alert per service, so each service gets its own fingerprint. 16 hex chars (64 bits).
 */
export function alertFingerprint(ruleId: number, service: string | null): string {
  return createHash('sha256')
    .update(`${ruleId}\u0000${service ?? ''}`)
    .digest('hex')
    .slice(0, 16);
}
