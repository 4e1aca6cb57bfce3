import { LogFlowError } from '../../common/errors.ts';
import type { Serde } from '../serde.ts';
import type { Windowed } from './windowed.ts';

/**
 * Kafka Streams' time-windowed key format: the inner key's bytes followed by the 8-byte
 * big-endian window start. The window end is not stored; the serde knows the window size.
 * Synchronous when the inner serde is.
 */
export class TimeWindowedSerde<K> implements Serde<Windowed<K>> {
  readonly name: string;

  constructor(
    readonly inner: Serde<K>,
    readonly windowSizeMs: number,
  ) {
    this.name = `windowed(${inner.name})`;
  }

  serialize(topic: string, value: Windowed<K>): Buffer | null | Promise<Buffer | null> {
    const key = this.inner.serialize(topic, value.key);
    return key instanceof Promise
      ? key.then((k) => withStart(k, value.window.start))
      : withStart(key, value.window.start);
  }

  deserialize(topic: string, data: Buffer | null): Windowed<K> | Promise<Windowed<K>> {
    if (data === null || data.length < 8) {
      throw new LogFlowError('LF_ERR_SERDE_DESERIALIZE', `windowed key on ${topic} is shorter than 8 bytes`);
    }
    const start = Number(data.readBigInt64BE(data.length - 8));
    const window = { start, end: start + this.windowSizeMs };
    const key = this.inner.deserialize(topic, data.subarray(0, data.length - 8));
    return key instanceof Promise ? key.then((k) => ({ key: k, window })) : { key, window };
  }
}

function withStart(key: Buffer | null, start: number): Buffer {
  const out = Buffer.allocUnsafe((key?.length ?? 0) + 8);
  key?.copy(out, 0);
  out.writeBigInt64BE(BigInt(start), key?.length ?? 0);
  return out;
}

export const WindowedSerdes = {
  timeWindowed: <K>(inner: Serde<K>, windowSizeMs: number): TimeWindowedSerde<K> =>
    new TimeWindowedSerde(inner, windowSizeMs),
  /** Keys of a sliding-window aggregate: windows [start, start + timeDifference], both ends inclusive. */
  slidingWindowed: <K>(inner: Serde<K>, timeDifferenceMs: number): TimeWindowedSerde<K> =>
    new TimeWindowedSerde(inner, timeDifferenceMs),
};
