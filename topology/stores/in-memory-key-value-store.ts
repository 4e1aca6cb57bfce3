import type { KeyValueStore } from './state-store.ts';
import { storeKeyId } from './store-key.ts';

/**
 * A Map-backed key-value store. Writes mark the key dirty; the task turns dirty keys into
 * changelog records at each commit (one record per key however often it changed, as Kafka
 * Streams' record cache does), which keeps changelog traffic proportional to distinct keys.
 */
export class InMemoryKeyValueStore<K, V> implements KeyValueStore<K, V> {
  private readonly entries = new Map<unknown, [K, V]>();
  private dirty = new Map<unknown, K>();

  constructor(
    readonly name: string,
    readonly logging: boolean,
  ) {}

  get(key: K): V | undefined {
    return this.entries.get(storeKeyId(key))?.[1];
  }

  put(key: K, value: V): void {
    const id = storeKeyId(key);
    const entry = this.entries.get(id);
    if (entry) entry[1] = value;
    else this.entries.set(id, [key, value]);
    if (this.logging) this.dirty.set(id, key);
  }

  putIfAbsent(key: K, value: V): V | undefined {
    const existing = this.get(key);
    if (existing === undefined) this.put(key, value);
    return existing;
  }

  delete(key: K): V | undefined {
    const id = storeKeyId(key);
    const entry = this.entries.get(id);
    this.entries.delete(id);
    if (this.logging) this.dirty.set(id, key);
    return entry?.[1];
  }

  *all(): IterableIterator<[K, V]> {
    for (const [key, value] of this.entries.values()) yield [key, value];
  }

  approximateNumEntries(): number {
    return this.entries.size;
  }

  /** @internal The keys written since the last call, with their current value (undefined = deleted). */
  takeDirty(): Array<[K, V | undefined]> {
    if (this.dirty.size === 0) return [];
    const out: Array<[K, V | undefined]> = [];
    for (const [id, key] of this.dirty) out.push([key, this.entries.get(id)?.[1]]);
    this.dirty = new Map();
    return out;
  }

  /** @internal Applies one changelog record during restore (no changelog write). */
  restore(key: K, value: V | null): void {
    const id = storeKeyId(key);
    if (value === null || value === undefined) this.entries.delete(id);
    else this.entries.set(id, [key, value]);
  }
}
