import type { Serde } from '../serde.ts';
import type { StoreSpec } from '../topology.ts';

/** Store declarations for `builder.addStateStore(...)` and `stream.process(supplier, [names])`. */
export const Stores = {
  keyValueStore<K, V>(name: string, keySerde?: Serde<K>, valueSerde?: Serde<V>, logging = true): StoreSpec {
    return {
      name,
      kind: 'keyValue',
      keySerde: keySerde as Serde<unknown>,
      valueSerde: valueSerde as Serde<unknown>,
      logging,
    };
  },
  windowStore<K, V>(
    name: string,
    options: { windowSizeMs: number; retentionMs: number },
    keySerde?: Serde<K>,
    valueSerde?: Serde<V>,
    logging = true,
  ): StoreSpec {
    return {
      name,
      kind: 'window',
      keySerde: keySerde as Serde<unknown>,
      valueSerde: valueSerde as Serde<unknown>,
      logging,
      windowSizeMs: options.windowSizeMs,
      retentionMs: Math.max(options.retentionMs, options.windowSizeMs),
    };
  },
};
