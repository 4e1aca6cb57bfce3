import { invalid } from './errors.ts';
import { parseTime } from './time.ts';

/** Shared by search, histogram and tail: time strings to epoch ms, start before end. */
export function timeBounds(q: { start_time?: string; end_time?: string }): { start?: number; end?: number } {
  const start = q.start_time === undefined ? undefined : parseTime(q.start_time, 'start_time');
  const end = q.end_time === undefined ? undefined : parseTime(q.end_time, 'end_time');
  if (start !== undefined && end !== undefined && start > end) {
    throw invalid('start_time must not be after end_time');
  }
  return { start, end };
}

/** `?levels=ERROR,WARN&levels=INFO` → ['ERROR','WARN','INFO']; unknown levels are a 400. */
export function splitList(
  values: string[] | undefined,
  field: string,
  allowed?: readonly string[],
): string[] | undefined {
  if (!values) return undefined;
  const out = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  if (allowed) {
    const bad = out.filter((v) => !allowed.includes(v));
    if (bad.length) throw invalid(`${field}: unknown value(s) ${bad.join(', ')}`, { allowed });
  }
  return out.length ? out : undefined;
}
