import { describe, expect, it } from 'vitest';
import { LogFlowError } from '../../../common/errors.ts';
import { Serdes } from '../../../topology/serdes/index.ts';

describe('string serde', () => {
  const serde = Serdes.String();

  it('round-trips UTF-8, including multi-byte characters', () => {
    const bytes = serde.serialize('t', 'héllo ✓ 日本');
    expect(bytes).toEqual(Buffer.from('héllo ✓ 日本', 'utf8'));
    expect(serde.deserialize('t', bytes)).toBe('héllo ✓ 日本');
  });

  it('keeps null as null (tombstones, keyless records)', () => {
    expect(serde.serialize('t', null as unknown as string)).toBeNull();
    expect(serde.deserialize('t', null)).toBeNull();
  });

  it('refuses a non-string value with LF_ERR_SERDE_SERIALIZE', () => {
    expect(() => serde.serialize('t', 42 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'LF_ERR_SERDE_SERIALIZE' }),
    );
  });
});

describe('json serde', () => {
  const serde = Serdes.Json<{ a: number; b: string[] }>();

  it('round-trips objects', () => {
    const value = { a: 1, b: ['x', 'y'] };
    const bytes = serde.serialize('t', value);
    expect(bytes?.toString()).toBe('{"a":1,"b":["x","y"]}');
    expect(serde.deserialize('t', bytes)).toEqual(value);
  });

  it('throws LF_ERR_SERDE_DESERIALIZE naming the topic for bytes that are not JSON', () => {
    let error: unknown;
    try {
      serde.deserialize('orders', Buffer.from('{not json'));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LogFlowError);
    expect((error as LogFlowError).code).toBe('LF_ERR_SERDE_DESERIALIZE');
    expect((error as LogFlowError).message).toContain('orders');
  });

  it('throws LF_ERR_SERDE_SERIALIZE for values with no JSON form', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => serde.serialize('t', cyclic as never)).toThrow(
      expect.objectContaining({ code: 'LF_ERR_SERDE_SERIALIZE' }),
    );
    expect(() => Serdes.Json<() => void>().serialize('t', () => {})).toThrow(
      expect.objectContaining({ code: 'LF_ERR_SERDE_SERIALIZE' }),
    );
  });

  it('keeps null as null', () => {
    expect(serde.serialize('t', null as never)).toBeNull();
    expect(serde.deserialize('t', null)).toBeNull();
  });
});

describe('bytes serde', () => {
  it('passes buffers through untouched', () => {
    const serde = Serdes.Bytes();
    const buf = Buffer.from([0, 1, 255]);
    expect(serde.serialize('t', buf)).toBe(buf);
    expect(serde.deserialize('t', buf)).toBe(buf);
  });
});
