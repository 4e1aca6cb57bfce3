import type { Serde } from '../serde.ts';

/** Raw bytes, passed through untouched (dead-letter topics, passthrough stages). */
export class BytesSerde implements Serde<Buffer> {
  readonly name = 'bytes';

  serialize(_topic: string, value: Buffer): Buffer | null {
    return value ?? null;
  }

  deserialize(_topic: string, data: Buffer | null): Buffer {
    return data as Buffer;
  }
}
