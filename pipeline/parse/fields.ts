/**
 * Structured bits inside free text: `key=value` / `key="quoted value"` pairs and error codes
 * (`E503`, `E1001`, or an explicit `error_code=`). Bounded so a 1 MiB line costs little.
 */
const KV = /(?:^|[\s,;(])([A-Za-z_][\w.-]{0,63})=("(?:[^"\\]|\\.)*"|[^\s,;)]+)/g;
const ERROR_CODE = /\b(E\d{3,6})\b/;
const MAX_SCAN = 16 * 1024;
const MAX_PAIRS = 64;
const MAX_VALUE = 1024;

export function extractKeyValues(text: string, into: Record<string, string>): void {
  const scanned = text.length > MAX_SCAN ? text.slice(0, MAX_SCAN) : text;
  let pairs = 0;
  // exec with lastIndex on the one module-level regex: matchAll clones the regex and allocates an
  // iterator per call. Synchronous, so no other caller can see lastIndex midway.
  KV.lastIndex = 0;
  for (let m = KV.exec(scanned); m !== null; m = KV.exec(scanned)) {
    if (++pairs > MAX_PAIRS) break;
    let value = m[2];
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value);
      } catch {
        value = value.slice(1, -1);
      }
    }
    into[m[1]] = value.length > MAX_VALUE ? value.slice(0, MAX_VALUE) : value;
  }
  KV.lastIndex = 0;
}

/** Adds `error_code` from the text when there is none yet. */
export function extractErrorCode(text: string, into: Record<string, string>): void {
  if (into.error_code !== undefined) return;
  const m = ERROR_CODE.exec(text.length > MAX_SCAN ? text.slice(0, MAX_SCAN) : text);
  if (m) into.error_code = m[1];
}

/** Any JSON value as a string field: strings as they are, everything else as JSON. */
export function fieldString(value: unknown): string {
  if (typeof value === 'string')
    return value.length > MAX_VALUE * 32 ? value.slice(0, MAX_VALUE * 32) : value;
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
