import { LogFlowError } from '../../common/errors.ts';
import type { Headers } from '../record.ts';
import type { Serde } from '../serde.ts';
import type { TopologyTestDriver } from './topology-test-driver.ts';

export interface TestOutputRecord<K, V> {
  key: K;
  value: V;
  timestamp: number;
  headers: Headers;
}

/**
 * Reads what the topology wrote to one topic, in order, each record once. Several readers of the
 * same topic each keep their own position.
 */
export class TestOutputTopic<K, V> {
  private position = 0;

  /** @internal */
  constructor(
    private readonly driver: TopologyTestDriver,
    readonly name: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  readRecord(): TestOutputRecord<K, V> {
    const [message] = this.driver.read(this.name, this.position);
    if (!message) throw new LogFlowError('LF_ERR_NOT_FOUND', `no more records in ${this.name}`);
    this.position++;
    const key = this.keySerde.deserialize(this.name, message.key);
    const value = this.valueSerde.deserialize(this.name, message.value);
    if (key instanceof Promise || value instanceof Promise) {
      throw new LogFlowError('LF_ERR_CONFIG_INVALID', 'TestOutputTopic needs synchronous serdes');
    }
    return { key, value, timestamp: message.timestamp, headers: message.headers };
  }

  readValue(): V {
    return this.readRecord().value;
  }

  readKeyValue(): [K, V] {
    const r = this.readRecord();
    return [r.key, r.value];
  }

  readRecordsToList(): Array<TestOutputRecord<K, V>> {
    const out: Array<TestOutputRecord<K, V>> = [];
    while (!this.isEmpty()) out.push(this.readRecord());
    return out;
  }

  readValuesToList(): V[] {
    return this.readRecordsToList().map((r) => r.value);
  }

  readKeyValuesToList(): Array<[K, V]> {
    return this.readRecordsToList().map((r) => [r.key, r.value]);
  }

  /** The last value per key (a table view of the remaining records). */
  readKeyValuesToMap(): Map<K, V> {
    const map = new Map<K, V>();
    for (const r of this.readRecordsToList()) map.set(r.key, r.value);
    return map;
  }

  getQueueSize(): number {
    return this.driver.read(this.name, this.position).length;
  }

  isEmpty(): boolean {
    return this.getQueueSize() === 0;
  }
}
