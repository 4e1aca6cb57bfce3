import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AvroWireEncoder,
  decodeAvroBody,
  HEADER_SIZE,
  loadSchema,
  readSchemaId,
} from '../../../topology/serdes/index.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const schema = loadSchema('test-event', FIXTURES);
const type = avro.Type.forSchema(schema as avro.Schema);

interface TestEvent {
  id: number;
  message: string;
  level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  tags: string[];
}

describe('Confluent Avro wire format', () => {
  it('is magic byte 0, the schema id as 4 bytes big-endian, then the Avro binary body', () => {
    const value: TestEvent = { id: 3, message: 'hi', level: 'WARN', tags: [] };
    const bytes = new AvroWireEncoder().encode(0x01020304, type, value);
    // id 3 → zigzag 6; "hi" → length zigzag 4 + bytes; enum WARN (index 2) → 4; empty array → 0.
    expect([...bytes]).toEqual([0, 1, 2, 3, 4, 6, 4, 0x68, 0x69, 4, 0]);
    expect(bytes.subarray(HEADER_SIZE)).toEqual(type.toBuffer(value));
    expect(readSchemaId(bytes)).toBe(0x01020304);
  });

  it('round-trips any valid record, and each output is its own buffer', () => {
    const encoder = new AvroWireEncoder(16); // tiny scratch: exercises growth
    fc.assert(
      fc.property(
        fc.record({
          // avsc's JS-number longs are exact only within ±2^52 (epoch millis are far below).
          id: fc.double({ min: -(2 ** 52), max: 2 ** 52, noNaN: true }).map((n) => Math.trunc(n) + 0),
          message: fc.fullUnicodeString({ maxLength: 200 }),
          level: fc.constantFrom('DEBUG', 'INFO', 'WARN', 'ERROR'),
          tags: fc.array(fc.string(), { maxLength: 5 }),
        }),
        fc.nat({ max: 0x7fffffff }),
        (value, id) => {
          const first = encoder.encode(id, type, value);
          const copy = Buffer.from(first);
          encoder.encode(id, type, { ...value, message: 'overwrite the scratch' });
          expect(first).toEqual(copy);
          expect(readSchemaId(first)).toBe(id);
          expect(decodeAvroBody(first, type, undefined)).toEqual(value);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('decodes a record written with an older schema through a resolver, filling defaults', () => {
    const v1 = avro.Type.forSchema({
      type: 'record',
      name: 'TestEvent',
      namespace: 'io.logflow.test',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'message', type: 'string' },
        {
          name: 'level',
          type: { type: 'enum', name: 'TestLevel', symbols: ['DEBUG', 'INFO', 'WARN', 'ERROR'] },
        },
      ],
    });
    const old = new AvroWireEncoder().encode(7, v1, { id: 1, message: 'old', level: 'INFO' });
    expect(decodeAvroBody(old, type, type.createResolver(v1))).toEqual({
      id: 1,
      message: 'old',
      level: 'INFO',
      tags: [],
    });
  });

  it('rejects data that is not Confluent Avro with LF_ERR_SERDE_DESERIALIZE', () => {
    const code = expect.objectContaining({ code: 'LF_ERR_SERDE_DESERIALIZE' });
    expect(() => readSchemaId(Buffer.from([0, 0, 1]))).toThrow(code);
    expect(() => readSchemaId(Buffer.from('{"json":true}'))).toThrow(/magic byte is 123/);
    const good = new AvroWireEncoder().encode(1, type, { id: 1, message: 'x', level: 'INFO', tags: [] });
    expect(() => decodeAvroBody(good.subarray(0, good.length - 2), type, undefined)).toThrow(code);
    expect(() => decodeAvroBody(Buffer.concat([good, Buffer.from([1, 2])]), type, undefined)).toThrow(
      /trailing bytes/,
    );
  });

  it('refuses to encode a value that does not match the schema', () => {
    expect(() =>
      new AvroWireEncoder().encode(1, type, { id: 1, message: 5, level: 'INFO', tags: [] }),
    ).toThrow();
  });
});
