/**
 * The `logs-raw` value (schemas/logs-raw.avsc): what the shipper sends, what the parse stage reads.
 * Times are epoch milliseconds (Avro `timestamp-millis` longs).
 */
export interface RawLogMetadata {
  /** Hostname of the shipper. */
  source: string;
  /** The path the shipper follows (stable across rotation). */
  file_path: string;
  shipper_timestamp: number;
  service: string;
  /** Persisted identity of one file generation; null when the producer is not the file shipper. */
  file_id?: string | null;
  /** Byte offset of the record's first line in that file generation. */
  offset?: number | null;
  /** The record was cut at the shipper's maximum record size. */
  truncated?: boolean;
}

export interface RawLog {
  raw_log: string;
  metadata: RawLogMetadata;
}
