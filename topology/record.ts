/**
 * A record as it travels through a topology. Named `StreamRecord` so it does not shadow
 * TypeScript's `Record`. `topic`/`partition`/`offset` name where the record was read from
 * (the source position that is committed once everything derived from it is acknowledged).
 */
export type Headers = Record<string, Buffer>;

export interface StreamRecord<K, V> {
  key: K;
  value: V;
  /** Event time in epoch milliseconds. */
  timestamp: number;
  headers: Headers;
  topic: string;
  partition: number;
  offset: number;
}
