import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  logIdOf,
  normalizeLevel,
  parseRawLog,
  parseTimestamp,
  type RawLog,
} from '../../../pipeline/parse/index.ts';
import { LEVELS } from '../../../storage/logs/types.ts';

const SHIPPED = Date.UTC(2026, 0, 2, 3, 4, 5);
const raw = (line: string, extra: Partial<RawLog['metadata']> = {}): RawLog => ({
  raw_log: line,
  metadata: {
    source: 'host-1',
    file_path: '/var/log/app.log',
    shipper_timestamp: SHIPPED,
    service: 'app',
    file_id: 'file-a',
    offset: 0,
    ...extra,
  },
});

describe('parseRawLog — text format', () => {
  it('parses the seed line exactly, naive time as UTC', () => {
    const p = parseRawLog(
      raw('2025-10-23 14:32:15 INFO [payment-service] Payment completed for order order_45231'),
      7,
    );
    expect(p).toEqual({
      id: p.id,
      timestamp: Date.UTC(2025, 9, 23, 14, 32, 15),
      level: 'INFO',
      service: 'payment-service',
      message: 'Payment completed for order order_45231',
      source: { hostname: 'host-1', file: '/var/log/app.log' },
      extra_fields: {},
      ingested_at: 7,
    });
    expect(p.id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('extracts key=value pairs (quoted too) and error codes', () => {
    const p = parseRawLog(
      raw(
        '2025-10-23 14:35:22 ERROR [user-service] Database connection timeout latency_ms=5003 user_id=user_12 note="two words" E1001',
      ),
    );
    expect(p.extra_fields).toEqual({
      latency_ms: '5003',
      user_id: 'user_12',
      note: 'two words',
      error_code: 'E1001',
    });
    const q = parseRawLog(raw('2025-10-23 14:35:22 ERROR [x] failed error_code=PAY-7 while E503'));
    expect(q.extra_fields.error_code).toBe('PAY-7');
  });

  it('keeps a joined stack trace in the message', () => {
    const text =
      '2025-10-23 14:35:22 ERROR [order-service] boom\n    at a (x.ts:1:1)\nCaused by: Error: y\n    ... 3 more';
    const p = parseRawLog(raw(text));
    expect(p.level).toBe('ERROR');
    expect(p.message).toBe('boom\n    at a (x.ts:1:1)\nCaused by: Error: y\n    ... 3 more');
  });

  it('accepts ISO times with zones and fractions, and lines without [service]', () => {
    const p = parseRawLog(raw('2025-10-23T14:32:15.250+02:00 warning something odd'));
    expect(p.timestamp).toBe(Date.UTC(2025, 9, 23, 12, 32, 15, 250));
    expect(p.level).toBe('WARN');
    expect(p.service).toBe('app');
    expect(p.message).toBe('something odd');
  });
});

describe('parseRawLog — JSON format', () => {
  it('maps the seed keys and puts everything else into extra_fields as strings', () => {
    const p = parseRawLog(
      raw(
        JSON.stringify({
          timestamp: '2025-10-23 14:35:22',
          level: 'err',
          service: 'payment-service',
          message: 'Payment gateway unavailable',
          error_code: 'E503',
          latency_ms: 120,
          ok: false,
          nested: { a: [1] },
          none: null,
        }),
      ),
    );
    expect(p).toMatchObject({
      timestamp: Date.UTC(2025, 9, 23, 14, 35, 22),
      level: 'ERROR',
      service: 'payment-service',
      message: 'Payment gateway unavailable',
      extra_fields: { error_code: 'E503', latency_ms: '120', ok: 'false', nested: '{"a":[1]}', none: '' },
    });
  });

  it('falls back to metadata for a missing service/time and UNKNOWN for a missing level', () => {
    const p = parseRawLog(raw('{"msg":"hello","ts":1761229935}'));
    expect(p).toMatchObject({ service: 'app', level: 'UNKNOWN', message: 'hello', timestamp: 1761229935000 });
    expect(parseRawLog(raw('{"message":"x"}')).timestamp).toBe(SHIPPED);
  });
});

describe('parseRawLog — garbage is kept, never dropped, never throws', () => {
  const unknown = (line: string) => {
    const p = parseRawLog(raw(line));
    expect(p.level).toBe('UNKNOWN');
    expect(p.message).toBe(line);
    expect(p.timestamp).toBe(SHIPPED);
    return p;
  };

  it('broken JSON, random words, a wrong level, empty', () => {
    unknown('{"timestamp":"2025-10-23 14:35:22","level":"ERROR",');
    unknown('just some words');
    unknown('2025-10-23 14:35:22 BANANA [x] y');
    unknown('2025-13-45 99:99:99 INFO [x] bad date');
    unknown('');
    unknown('[1,2,3]');
  });

  it('random bytes decoded as UTF-8 (with replacement characters)', () => {
    for (let i = 0; i < 200; i++) {
      const line = randomBytes(1 + (i % 300)).toString('utf8');
      const p = parseRawLog(raw(line));
      expect(LEVELS).toContain(p.level);
      expect(typeof p.message).toBe('string');
    }
    const invalid = Buffer.from([0x32, 0x30, 0xff, 0xfe, 0xc3, 0x28]).toString('utf8');
    expect(unknown(invalid).message).toContain('\ufffd');
  });

  it('a 1 MiB line', () => {
    const big = `2025-10-23 14:35:22 INFO [x] ${'k=v '.repeat(262_144)}`;
    const p = parseRawLog(raw(big));
    expect(p.level).toBe('INFO');
    expect(p.message.length).toBe(big.length - '2025-10-23 14:35:22 INFO [x] '.length);
    expect(Object.keys(p.extra_fields).length).toBeLessThanOrEqual(64);
    expect(unknown('x'.repeat(1 << 20)).message.length).toBe(1 << 20);
  });

  it('property: any string parses to a valid log', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => {
        const p = parseRawLog(raw(s), 1);
        return LEVELS.includes(p.level) && p.id.length === 32 && Number.isFinite(p.timestamp);
      }),
    );
  });

  it('flags records the shipper truncated', () => {
    expect(parseRawLog(raw('x', { truncated: true })).extra_fields.truncated).toBe('true');
  });
});

describe('ids', () => {
  it('are deterministic in file identity, offset and text', () => {
    const a = raw('line', { offset: 10 });
    expect(logIdOf(a)).toBe(logIdOf(structuredClone(a)));
    expect(parseRawLog(a, 1).id).toBe(parseRawLog(a, 2).id); // re-delivery later: same id
    expect(logIdOf(raw('line', { offset: 11 }))).not.toBe(logIdOf(a));
    expect(logIdOf(raw('line', { offset: 10, file_id: 'file-b' }))).not.toBe(logIdOf(a));
    expect(logIdOf(raw('line2', { offset: 10 }))).not.toBe(logIdOf(a));
    // shipper time does not matter when file identity is known (a re-send is read later)
    expect(logIdOf(raw('line', { offset: 10, shipper_timestamp: 1 }))).toBe(logIdOf(a));
  });
  it('stay the ids earlier versions gave (replays after an upgrade must not duplicate)', () => {
    // Pinned from the streaming sha1 (update(head), update(text)) the first version used.
    expect(logIdOf(raw('line é', { offset: 10 }))).toBe('53d96dd3639052ae6e5c00e71d3fe2d5');
    expect(logIdOf(raw('line', { file_id: null, offset: null }))).toBe('7a7ab882cf50b09e2a3c5eeed1402b95');
  });
  it('fall back to source, path and time without file identity', () => {
    const b = raw('line', { file_id: null, offset: null });
    expect(logIdOf(b)).toBe(logIdOf(structuredClone(b)));
    expect(logIdOf(raw('line', { file_id: null, offset: null, shipper_timestamp: 1 }))).not.toBe(logIdOf(b));
  });
});

describe('levels and timestamps', () => {
  it('normalises levels', () => {
    expect(normalizeLevel('WARNING')).toBe('WARN');
    expect(normalizeLevel('ERR')).toBe('ERROR');
    expect(normalizeLevel('CRITICAL')).toBe('FATAL');
    expect(normalizeLevel('fatal')).toBe('FATAL');
    expect(normalizeLevel('info')).toBe('INFO');
    expect(normalizeLevel('debug')).toBe('DEBUG');
    expect(normalizeLevel('nope')).toBeUndefined();
    expect(normalizeLevel(3)).toBeUndefined();
  });
  it('parses timestamp shapes', () => {
    expect(parseTimestamp('2025-10-23 14:32:15')).toBe(Date.UTC(2025, 9, 23, 14, 32, 15));
    expect(parseTimestamp('2025-10-23T14:32:15Z')).toBe(Date.UTC(2025, 9, 23, 14, 32, 15));
    expect(parseTimestamp('2025-10-23T14:32:15,5-0130')).toBe(Date.UTC(2025, 9, 23, 16, 2, 15, 500));
    expect(parseTimestamp(1761229935123)).toBe(1761229935123);
    expect(parseTimestamp('1761229935.5')).toBe(1761229935500);
    expect(parseTimestamp('yesterday')).toBeUndefined();
    expect(parseTimestamp(Number.NaN)).toBeUndefined();
  });
});
