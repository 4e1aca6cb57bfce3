/**
 * The seed's two line formats. Times are written as `YYYY-MM-DD HH:mm:ss` in UTC (the parse
 * stage reads naive times as UTC, so a round trip keeps the instant).
 *
 *   text: `2025-10-23 14:32:15 INFO [payment-service] Payment completed for order order_45231 amount=12.00`
 *   json: `{"timestamp":"2025-10-23 14:35:22","level":"ERROR","service":"payment-service","message":"…",…}`
 */
import type { GeneratedLog } from './log-factory.ts';

export type LogFormat = 'text' | 'json';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

function fieldText(value: string | number): string {
  const s = String(value);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

/** One event as text; a stack trace adds continuation lines. Always ends with `\n`. */
export function formatText(log: GeneratedLog): string {
  let line = `${formatTimestamp(log.timestamp)} ${log.level} [${log.service}] ${log.message}`;
  for (const [k, v] of Object.entries(log.fields)) line += ` ${k}=${fieldText(v)}`;
  line += '\n';
  if (log.stack) line += `${log.stack.join('\n')}\n`;
  return line;
}

/** One event as a single JSON line (a stack trace goes into `stack_trace`). Ends with `\n`. */
export function formatJson(log: GeneratedLog): string {
  const doc: Record<string, unknown> = {
    timestamp: formatTimestamp(log.timestamp),
    level: log.level,
    service: log.service,
    message: log.message,
    ...log.fields,
  };
  if (log.stack) doc.stack_trace = log.stack.join('\n');
  return `${JSON.stringify(doc)}\n`;
}

export function formatLog(log: GeneratedLog, format: LogFormat): string {
  return format === 'json' ? formatJson(log) : formatText(log);
}
