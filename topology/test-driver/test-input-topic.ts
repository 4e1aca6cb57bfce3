import { LogFlowError } from '../../common/errors.ts';
import type { Headers } from '../record.ts';
import type { Serde } from '../serde.ts';
import type { TopologyTestDriver } from './topology-test-driver.ts';

export interface TestRecord<K, V> {
  key: K;
  value: V;
  timestamp?: number;
  headers?: Headers;
}

/**
 * Pipes records into one input topic of a `TopologyTestDriver`. Records without a timestamp get
 * the topic's current time, which starts at `startTimestampMs` and moves by `autoAdvanceMs` after
 * each record.
 */
export class TestInputTopic<K, V> {
  private currentTime: number;

  /** @internal */
  constructor(
    private readonly driver: TopologyTestDriver,
    readonly name: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    startTimestampMs = 0,
    private readonly autoAdvanceMs = 0,
  ) {
    this.currentTime = startTimestampMs;
  }

  pipeInput(key: K, value: V, timestamp?: number, headers: Headers = {}): void {
    const ts = timestamp ?? this.currentTime;
    if (timestamp === undefined) this.currentTime += this.autoAdvanceMs;
    const k = this.keySerde.serialize(this.name, key);
    const v = this.valueSerde.serialize(this.name, value);
    if (k instanceof Promise || v instanceof Promise) {
      throw new LogFlowError('LF_ERR_CONFIG_INVALID', 'TestInputTopic needs synchronous serdes');
    }
    this.driver.pipe(this.name, k, v, ts, headers);
  }

  pipeValue(value: V, timestamp?: number): void {
    this.pipeInput(null as K, value, timestamp);
  }

  pipeRecordList(records: Array<TestRecord<K, V>>): void {
    for (const r of records) this.pipeInput(r.key, r.value, r.timestamp, r.headers);
  }

  pipeKeyValueList(pairs: Array<[K, V]>, timestamp?: number): void {
    for (const [k, v] of pairs) this.pipeInput(k, v, timestamp);
  }

  /** Moves the time given to records piped without a timestamp. */
  advanceTime(ms: number): void {
    this.currentTime += ms;
  }
}
