/**
 * Turns values into bytes and back. Serdes may be asynchronous (the Avro serde registers and
 * fetches schemas from the Schema Registry); they must be safe to call concurrently.
 * A serde throws `LogFlowError('LF_ERR_SERDE_DESERIALIZE' | 'LF_ERR_SERDE_SERIALIZE')` on bad data.
 */
export interface Serde<T> {
  /** A short name for `describe()` and error messages, e.g. `avro(logs-parsed-value)`. */
  readonly name: string;
  serialize(topic: string, value: T): Buffer | null | Promise<Buffer | null>;
  deserialize(topic: string, data: Buffer | null): T | Promise<T>;
}
