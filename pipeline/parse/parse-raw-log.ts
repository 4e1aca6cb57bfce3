/**
 * `parseRawLog`: one raw record → one parsed log, pure and total. It understands the seed's text
 * format (`2025-10-23 14:32:15 INFO [payment-service] message key=value`, optionally followed by
 * stack-trace lines the shipper joined) and its JSON format (`timestamp`, `level`, `service`,
 * `message`, everything else into `extra_fields` as strings). Anything else is kept whole with
 * level UNKNOWN and the shipper's timestamp — a log is never dropped and this never throws.
 */
import type { Level, ParsedLog } from '../../storage/logs/types.ts';
import { extractErrorCode, extractKeyValues, fieldString } from './fields.ts';
import { normalizeLevel } from './levels.ts';
import { logIdOf } from './log-id.ts';
import type { RawLog } from './raw-log.ts';
import { parseTimestamp } from './timestamps.ts';

// timestamp, level, optional [service], message (first line only; the rest is a joined stack trace)
const TEXT_LINE =
  /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)\s+([A-Za-z]{3,11})\s+(?:\[([^\]\s]{1,128})\]\s*)?(.*)$/;

const JSON_KNOWN = new Set([
  'timestamp',
  '@timestamp',
  'time',
  'ts',
  'level',
  'severity',
  'service',
  'message',
  'msg',
]);

interface Parsed {
  timestamp: number;
  level: Level;
  service: string;
  message: string;
  extra: Record<string, string>;
}

function parseText(text: string, raw: RawLog): Parsed | undefined {
  const newline = text.indexOf('\n');
  const first = newline === -1 ? text : text.slice(0, newline);
  const m = TEXT_LINE.exec(first);
  if (!m) return undefined;
  const level = normalizeLevel(m[2]);
  const timestamp = parseTimestamp(m[1]);
  if (!level || timestamp === undefined) return undefined;
  const head = m[4];
  const extra: Record<string, string> = {};
  extractKeyValues(head, extra);
  extractErrorCode(head, extra);
  return {
    timestamp,
    level,
    service: m[3] ?? raw.metadata.service,
    message: newline === -1 ? head : head + text.slice(newline),
    extra,
  };
}

function parseJson(text: string, raw: RawLog): Parsed | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const o = doc as Record<string, unknown>;
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (!JSON_KNOWN.has(k) && k !== '__proto__') extra[k] = fieldString(v);
  }
  const message = fieldString(o.message ?? o.msg ?? '');
  extractErrorCode(message, extra);
  return {
    timestamp:
      parseTimestamp(o.timestamp ?? o['@timestamp'] ?? o.time ?? o.ts) ?? raw.metadata.shipper_timestamp,
    level: normalizeLevel(o.level ?? o.severity) ?? 'UNKNOWN',
    service: typeof o.service === 'string' && o.service !== '' ? o.service : raw.metadata.service,
    message,
    extra,
  };
}

/** True when every field has its schema type already (always, for records decoded from Avro). */
function isWellFormed(raw: RawLog): boolean {
  const m = raw?.metadata;
  return (
    typeof raw?.raw_log === 'string' &&
    m !== null &&
    typeof m === 'object' &&
    typeof m.source === 'string' &&
    typeof m.file_path === 'string' &&
    typeof m.shipper_timestamp === 'number' &&
    m.shipper_timestamp !== 0 &&
    typeof m.service === 'string' &&
    (m.file_id === null || typeof m.file_id === 'string') &&
    (m.offset === null || typeof m.offset === 'number') &&
    (m.truncated === undefined || typeof m.truncated === 'boolean')
  );
}

/** Fills what a foreign or damaged producer left out, so parsing never trips over a missing field. */
function wellFormed(raw: RawLog): RawLog {
  // The usual case is read as it is: no copy per record (allocation is the stage's main GC cost).
  if (isWellFormed(raw)) return raw;
  const m = (raw?.metadata ?? {}) as Partial<RawLog['metadata']>;
  const str = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback);
  return {
    raw_log: typeof raw?.raw_log === 'string' ? raw.raw_log : raw?.raw_log == null ? '' : String(raw.raw_log),
    metadata: {
      source: str(m.source, 'unknown'),
      file_path: str(m.file_path, ''),
      shipper_timestamp: typeof m.shipper_timestamp === 'number' ? m.shipper_timestamp : 0,
      service: str(m.service, 'unknown'),
      file_id: typeof m.file_id === 'string' ? m.file_id : null,
      offset: typeof m.offset === 'number' ? m.offset : null,
      truncated: m.truncated === true,
    },
  };
}

export function parseRawLog(input: RawLog, now: number = Date.now()): ParsedLog {
  const raw = wellFormed(input);
  if (raw.metadata.shipper_timestamp === 0) raw.metadata.shipper_timestamp = now;
  const text = raw.raw_log;
  let parsed: Parsed | undefined;
  try {
    parsed = parseJson(text, raw) ?? parseText(text, raw);
  } catch {
    parsed = undefined; // a parser bug must not drop the log: fall through to UNKNOWN
  }
  const extra = parsed?.extra ?? {};
  if (raw.metadata.truncated) extra.truncated = 'true';
  return {
    id: logIdOf(raw),
    timestamp: parsed?.timestamp ?? raw.metadata.shipper_timestamp,
    level: parsed?.level ?? 'UNKNOWN',
    service: parsed?.service ?? raw.metadata.service,
    message: parsed?.message ?? text,
    source: { hostname: raw.metadata.source, file: raw.metadata.file_path },
    extra_fields: extra,
    ingested_at: now,
  };
}
