/**
 * Log timestamps: ISO 8601 with or without zone, `YYYY-MM-DD HH:mm:ss[.fff]`, and epoch numbers
 * (seconds or milliseconds). A time without a zone is read as UTC — the generator writes UTC,
 * and a fixed rule beats guessing the writer's zone from the shipper's.
 */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** The last string parsed and its result: consecutive logs mostly share their second. */
let lastText: string | undefined;
let lastParsed: number | undefined;

export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'string') {
    if (value === lastText) return lastParsed;
    const parsed = parseTimestampUncached(value);
    lastText = value;
    lastParsed = parsed;
    return parsed;
  }
  return parseTimestampUncached(value);
}

function parseTimestampUncached(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return undefined;
    // Below 1e11 it is seconds (1e11 s is the year 5138; 1e11 ms is 1973).
    return Math.round(value < 1e11 ? value * 1000 : value);
  }
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  if (/^\d{9,13}(\.\d+)?$/.test(s)) return parseTimestamp(Number(s));
  const m = DATE_TIME.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms);
  if (
    Number.isNaN(t) ||
    Number(mo) > 12 ||
    Number(d) > 31 ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(sec) > 60
  ) {
    return undefined;
  }
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
  }
  return t;
}
