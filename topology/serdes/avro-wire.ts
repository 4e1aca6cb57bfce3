/**
 * The Confluent wire format: one magic byte (0), the 4-byte big-endian schema id, then the Avro
 * binary encoding of the value. Pure functions over avsc types so they can be tested without a
 * registry, and so the hot path (one encode/decode per record) does no I/O and no allocation
 * beyond the output buffer.
 */
import type { Resolver, Type } from 'avsc';
import { LogFlowError } from '../../common/errors.ts';

export const MAGIC_BYTE = 0;
export const HEADER_SIZE = 5;

/**
 * Encodes into a reusable scratch buffer, then copies out exactly the bytes written. The copy is
 * cheaper than avsc's `toBuffer` (which sizes by trial) and the scratch grows only on a record
 * larger than any seen before.
 */
export class AvroWireEncoder {
  private scratch: Buffer;

  constructor(initialSize = 64 * 1024) {
    this.scratch = Buffer.allocUnsafe(initialSize);
  }

  encode(schemaId: number, type: Type, value: unknown): Buffer {
    for (;;) {
      const scratch = this.scratch;
      scratch[0] = MAGIC_BYTE;
      scratch.writeUInt32BE(schemaId, 1);
      // avsc returns a negative position (minus the missing bytes) when the buffer is too small.
      const end = type.encode(value, scratch, HEADER_SIZE);
      if (end >= 0) {
        const out = Buffer.allocUnsafe(end);
        scratch.copy(out, 0, 0, end);
        return out;
      }
      this.scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
    }
  }
}

/** Reads the schema id of a wire-format buffer, failing clearly on anything else. */
export function readSchemaId(data: Buffer): number {
  if (data.length < HEADER_SIZE) {
    throw new LogFlowError(
      'LF_ERR_SERDE_DESERIALIZE',
      `not Confluent Avro: ${data.length} bytes is shorter than the ${HEADER_SIZE}-byte header`,
    );
  }
  if (data[0] !== MAGIC_BYTE) {
    throw new LogFlowError(
      'LF_ERR_SERDE_DESERIALIZE',
      `not Confluent Avro: magic byte is ${data[0]}, expected ${MAGIC_BYTE}`,
    );
  }
  return data.readUInt32BE(1);
}

/**
 * Decodes the Avro body of a wire-format buffer with the reader type (through a resolver when the
 * writer schema differs). Every byte must be consumed: trailing bytes mean a schema mismatch.
 */
export function decodeAvroBody<T>(data: Buffer, reader: Type, resolver: Resolver | undefined): T {
  let decoded: { value: unknown; offset: number };
  try {
    decoded = reader.decode(data, HEADER_SIZE, resolver);
  } catch (err) {
    throw new LogFlowError('LF_ERR_SERDE_DESERIALIZE', `invalid Avro data: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (decoded.offset !== data.length) {
    throw new LogFlowError(
      'LF_ERR_SERDE_DESERIALIZE',
      decoded.offset < 0
        ? `truncated Avro data for ${reader.name ?? reader.typeName}`
        : `${data.length - decoded.offset} trailing bytes after the Avro value for ${reader.name ?? reader.typeName}`,
    );
  }
  return decoded.value as T;
}
