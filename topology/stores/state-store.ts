/**
 * State stores: in-memory tables a stage reads and writes while it processes a task's records.
 * Every write is also logged (deduplicated per key between commits) to a compacted changelog
 * topic `<applicationId>-<store>-changelog` whose partition is the task's partition; a store is
 * rebuilt from that changelog whenever its task is assigned, so a restarted or newly assigned
 * instance resumes with exactly the state it should have.
 *
 * Lifecycle: the runtime creates a store when its task is assigned, restores it, hands it to the
 * stages through `StageContext.getStateStore(name)`, flushes its changelog at every commit and
 * drops it when the task is revoked. Stages must not keep references past their task.
 */
export interface StateStore {
  readonly name: string;
  /** Number of entries (windows count one per key and window). */
  approximateNumEntries(): number;
}

export interface KeyValueStore<K, V> extends StateStore {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  /** Returns the previous value when none was set, else leaves it. */
  putIfAbsent(key: K, value: V): V | undefined;
  delete(key: K): V | undefined;
  /** Every entry, in insertion order. */
  all(): IterableIterator<[K, V]>;
}

export interface WindowStoreEntry<K, V> {
  key: K;
  windowStart: number;
  value: V;
}

export interface WindowStore<K, V> extends StateStore {
  /** The window size the store was created for (ms); a window is [start, start + size). */
  readonly windowSizeMs: number;
  put(key: K, windowStart: number, value: V): void;
  fetch(key: K, windowStart: number): V | undefined;
  /** The windows of one key whose start lies in [fromStart, toStart], oldest first. */
  fetchRange(key: K, fromStart: number, toStart: number): Array<{ windowStart: number; value: V }>;
  delete(key: K, windowStart: number): void;
  all(): IterableIterator<WindowStoreEntry<K, V>>;
}

export type StoreKind = 'keyValue' | 'window';
