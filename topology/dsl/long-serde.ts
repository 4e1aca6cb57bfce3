import { LogFlowError } from '../../common/errors.ts';
import type { Serde } from '../serde.ts';

/**
 * 8-byte big-endian signed integers, as Kafka's `LongSerde` writes them, so counts produced here
 * read the same with kcat `-s value=q` or a Java consumer. Used by `count()`.
 */
export class LongSerde implements Serde<number> {
  readonly name = 'long';

  serialize(_topic: string, value: number): Buffer | null {
    if (value === null || value === undefined) return null;
    const out = Buffer.allocUnsafe(8);
    out.writeBigInt64BE(BigInt(Math.trunc(value)));
    return out;
  }

  deserialize(topic: string, data: Buffer | null): number {
    if (data === null) return null as unknown as number;
    if (data.length !== 8) {
      throw new LogFlowError(
        'LF_ERR_SERDE_DESERIALIZE',
        `long on ${topic} must be 8 bytes, got ${data.length}`,
      );
    }
    return Number(data.readBigInt64BE(0));
  }
}
