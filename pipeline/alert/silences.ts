import type { Silence } from '../../storage/db/types.ts';

/**
 * A silence matches an alert when its rule and service match (null = any) and `now` lies in
 * [starts_at, ends_at). Silences do not change alert state; they only mark notifications.
 */
export function isSilenced(
  silences: readonly Silence[],
  ruleId: number,
  service: string | null,
  now: number,
): boolean {
  return silences.some(
    (s) =>
      (s.rule_id === null || s.rule_id === ruleId) &&
      (s.service === null || s.service === service) &&
      Date.parse(s.starts_at) <= now &&
      now < Date.parse(s.ends_at),
  );
}
