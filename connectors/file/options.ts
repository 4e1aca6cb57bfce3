/**
 * The file source's configuration (data; `createShipper` builds the runtime from it).
 */
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { LogFlowError } from '../../common/errors.ts';
import type { RawLog } from '../../pipeline/parse/raw-log.ts';
import type { Serde } from '../../topology/serde.ts';
import type { Producer } from '../../topology/transport/transport.ts';
import type { RetryPolicy } from './delivery.ts';

/**
 * What the Kafka message key is. `path` (default): each followed file's records stay in order in
 * one partition, across rotations (the followed path does not change when the file is rotated),
 * and many files spread over all partitions. `service` would cap parallelism at the number of
 * services (five in the demo) and make one hot service a hot partition; `file` (the generation
 * id) would move a file's records to another partition at every rotation.
 */
export type KeyBy = 'path' | 'service' | 'file';

export interface ShipperOptions {
  /** Files or globs (`*`, `?`, `[…]`, `**`), re-expanded every `globIntervalMs` for late files. */
  paths: string[];
  producer: Producer;
  /** Turns a RawLog into bytes: the Avro serde in Kafka mode, anything in memory mode. */
  serde: Serde<RawLog>;
  topic: string;
  /** Where acknowledged offsets are kept (JSON, written atomically). */
  checkpointPath: string;
  /** `metadata.service` for every file; default derived from each file name. */
  service?: string;
  /** `metadata.source`; default the hostname. */
  hostname?: string;
  /** For files found at the first start with no checkpoint: read them whole or only new lines. */
  startAt?: 'beginning' | 'end';
  keyBy?: KeyBy;
  pollIntervalMs?: number;
  globIntervalMs?: number;
  /** A pending multi-line record is sent after this long without a continuation line. */
  multilineTimeoutMs?: number;
  maxMultilineLines?: number;
  /** Longer records (UTF-8 bytes) are cut here and flagged `truncated`. Default 1,000,000. */
  maxRecordBytes?: number;
  /** A renamed or deleted file is closed after being idle at its end this long. */
  rotatedCloseMs?: number;
  fingerprintBytes?: number;
  batchMaxRecords?: number;
  batchMaxBytes?: number;
  /** Backpressure: reading stops while this many records/bytes wait or are in flight. */
  maxBufferedRecords?: number;
  maxBufferedBytes?: number;
  retry?: RetryPolicy;
  /** How long `stop()` waits for queued records to be acknowledged. */
  drainTimeoutMs?: number;
  /** Checkpoint entries of finished or vanished files are dropped after this long. */
  forgetAfterMs?: number;
  /**
   * Where the shipper's metrics go: `logflow_stage_records_in_total{stage="shipper"}` (read),
   * `logflow_stage_records_out_total{stage="shipper"}` (acknowledged),
   * `logflow_stage_errors_total{stage="shipper",kind="send"}`, `logflow_shipper_bytes_behind`,
   * `logflow_shipper_files_open`. None when absent.
   */
  metricsRegistry?: Registry;
}

export type ResolvedShipperOptions = Required<Omit<ShipperOptions, 'service' | 'metricsRegistry'>> & {
  service?: string;
  metricsRegistry?: Registry;
};

export function resolveShipperOptions(o: ShipperOptions): ResolvedShipperOptions {
  const errors: string[] = [];
  if (!o.paths?.length) errors.push('paths: at least one file or glob is required');
  if (!o.topic) errors.push('topic is required');
  if (!o.checkpointPath) errors.push('checkpointPath is required');
  const r: ResolvedShipperOptions = {
    hostname: hostname(),
    startAt: 'beginning',
    keyBy: 'path',
    pollIntervalMs: 50,
    globIntervalMs: 1000,
    multilineTimeoutMs: 250,
    maxMultilineLines: 500,
    // Under Kafka's default message limit (message.max.bytes 1,048,588) with room for the key,
    // the metadata and the record framing: a 1 MiB record would be refused, and retried forever.
    maxRecordBytes: 1_000_000,
    rotatedCloseMs: 2000,
    fingerprintBytes: 1024,
    batchMaxRecords: 5000,
    batchMaxBytes: 4 * 1024 * 1024,
    maxBufferedRecords: 50_000,
    maxBufferedBytes: 32 * 1024 * 1024,
    retry: { initialMs: 100, maxMs: 10_000 },
    drainTimeoutMs: 10_000,
    forgetAfterMs: 24 * 3600_000,
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
  } as ResolvedShipperOptions;
  for (const k of [
    'pollIntervalMs',
    'maxRecordBytes',
    'batchMaxRecords',
    'batchMaxBytes',
    'maxBufferedRecords',
  ] as const) {
    if (!(Number(r[k]) > 0)) errors.push(`${k} must be > 0`);
  }
  if (r.maxBufferedBytes < r.maxRecordBytes) errors.push('maxBufferedBytes must be >= maxRecordBytes');
  if (errors.length > 0) {
    throw new LogFlowError('LF_ERR_CONFIG_INVALID', `invalid shipper options: ${errors.join('; ')}`, {
      details: errors,
    });
  }
  return r;
}
