/**
 * The Elasticsearch sink connector: consumes `logs-parsed` through the Transport (its own
 * consumer group) and bulk-writes each log to its daily index `<prefix>-YYYY.MM.DD` with the log id
 * as `_id` (`create` op; a 409 means "already there", so replays never duplicate).
 *
 * Delivery contract (at-least-once into Elasticsearch, exactly-once in effect through the ids):
 * - bulks are cut by record count, bytes and linger time;
 * - per item: 429 / 5xx / es_rejected_execution are retried (only those items) with backoff;
 *   mapping and parse errors (4xx) go to the dead-letter topic with the original bytes and
 *   `logflow.error.*` headers; undecodable and unindexable records go there too;
 * - while Elasticsearch is unreachable the sink pauses every partition it owns, retries with
 *   backoff, and resumes once a bulk succeeds — catching up from its buffer and then the topic;
 * - a partition's offset is committed only after every record up to it is acknowledged by
 *   Elasticsearch or by the dead-letter topic.
 *
 * Lifecycle: `start()` once; `stop()` is idempotent, flushes what Elasticsearch accepts within
 * `stopTimeoutMs`, commits that, and leaves the group (the rest is re-read by the next owner).
 */
import type { Client } from '@elastic/elasticsearch';
import { Client as EsClient } from '@elastic/elasticsearch';
import type { Registry } from 'prom-client';
import { describeError, type ErrorCode, LogFlowError } from '../../common/errors.ts';
import { createLogger, type Logger } from '../../common/logger.ts';
import type { ParsedLog } from '../../storage/logs/types.ts';
import type { Headers } from '../../topology/record.ts';
import { DLQ_HEADERS } from '../../topology/runtime/error-handlers.ts';
import type { Serde } from '../../topology/serde.ts';
import type {
  Batch,
  Consumer,
  IncomingMessage,
  Producer,
  TopicPartition,
  TopicPartitionOffset,
  Transport,
} from '../../topology/transport/transport.ts';
import { type BulkApi, clientBulkApi } from './bulk-api.ts';
import { itemOutcome } from './bulk-outcome.ts';
import type { IndexTemplateOptions } from './index-template.ts';
import { BulkActionLines, toEsSource, unindexableReason } from './log-document.ts';
import { type SinkMetrics, sinkMetrics } from './sink-metrics.ts';

/**
 * Headers a dead-lettered record carries besides its own: the topology's dead-letter headers
 * (`logflow.error.*`, `logflow.source.*`) plus the HTTP status Elasticsearch answered.
 */
export const DEAD_LETTER_HEADERS = {
  code: DLQ_HEADERS.errorCode,
  reason: DLQ_HEADERS.errorMessage,
  kind: DLQ_HEADERS.errorKind,
  stage: DLQ_HEADERS.stage,
  topic: DLQ_HEADERS.sourceTopic,
  partition: DLQ_HEADERS.sourcePartition,
  offset: DLQ_HEADERS.sourceOffset,
  status: 'logflow.error.status',
} as const;

export interface SinkBatchOptions {
  /** Records per bulk request. Default 5,000. */
  maxRecords?: number;
  /** Bytes of NDJSON per bulk request. Default 8 MiB. */
  maxBytes?: number;
  /**
   * How long a partial bulk may wait for more records while no bulk is in flight. Default 10 ms:
   * the latency target is p50 ≤ 100 ms end to end; under load the bulk in flight is the wait.
   */
  lingerMs?: number;
}

export interface ElasticsearchSinkOptions {
  transport: Transport;
  /** Decodes `logs-parsed` values (Avro in kafka mode, JSON or Avro in memory). */
  serde: Serde<ParsedLog>;
  /** An existing client, or `node` (URL) to create one. */
  client?: Client;
  node?: string;
  /** Replaces the client's calls (unit tests script Elasticsearch's answers with it). */
  bulkApi?: BulkApi;
  indexPrefix?: string;
  topic?: string;
  deadLetterTopic?: string;
  groupId?: string;
  /** The `sink` metric label and `lf.error.stage` header. Default `elasticsearch`. */
  name?: string;
  batch?: SinkBatchOptions;
  /** Records held unacknowledged before partitions are paused. Default 4 × maxRecords. */
  maxBufferedRecords?: number;
  /** Backoff between retries: starts at initialMs, doubles, caps at maxMs. */
  retry?: { initialMs?: number; maxMs?: number };
  /** Days of daily indices kept; 0 or undefined keeps everything. */
  retentionDays?: number;
  retentionIntervalMs?: number;
  template?: IndexTemplateOptions;
  /** Upper bound on the final flush in `stop()`. Default 10 s. */
  stopTimeoutMs?: number;
  /** Called after each acknowledged bulk with the logs it wrote (bench latency, live views). */
  onWritten?: (logs: ParsedLog[], ackedAt: number) => void;
  now?: () => number;
  logger?: Logger;
  /** Where the metrics go: the app's shared registry; default prom-client's `register`. */
  registry?: Registry;
}

export interface SinkStats {
  written: number;
  duplicates: number;
  deadLettered: number;
  retriedItems: number;
  failedRequests: number;
  bulks: number;
  buffered: number;
  paused: boolean;
  targetUp: boolean;
  committed: TopicPartitionOffset[];
}

interface Entry {
  message: IncomingMessage;
  bytes: number;
  /** The two NDJSON lines of a writable log. */
  action?: string;
  source?: string;
  log?: ParsedLog;
  /** Set when the record goes to the dead-letter topic instead. */
  rejection?: { code: ErrorCode; reason: string; status?: number };
}

const tpKey = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

export class ElasticsearchSink {
  private readonly opts: ElasticsearchSinkOptions;
  private readonly api: BulkApi;
  private readonly ownedClient: Client | undefined;
  private readonly name: string;
  private readonly topic: string;
  private readonly deadLetterTopic: string;
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly lingerMs: number;
  private readonly maxBuffered: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly metrics: SinkMetrics;
  private readonly actions: BulkActionLines;

  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private buffer: Entry[] = [];
  private bufferedBytes = 0;
  private readonly owned = new Map<string, TopicPartition>();
  private readonly paused = new Map<string, TopicPartition>();
  private pumping: Promise<void> | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private templateReady = false;
  private targetUp = true;
  private started = false;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private wakeSleepers: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private readonly committed = new Map<string, TopicPartitionOffset>();
  private readonly stats = {
    written: 0,
    duplicates: 0,
    deadLettered: 0,
    retriedItems: 0,
    failedRequests: 0,
    bulks: 0,
  };

  constructor(options: ElasticsearchSinkOptions) {
    this.opts = options;
    const prefix = options.indexPrefix ?? 'logs';
    if (options.bulkApi) {
      this.api = options.bulkApi;
    } else {
      if (!options.client && !options.node) {
        throw new LogFlowError(
          'LF_ERR_CONFIG_INVALID',
          'the Elasticsearch sink needs a client, a node URL or a bulkApi',
        );
      }
      this.ownedClient = options.client
        ? undefined
        : new EsClient({ node: options.node!, requestTimeout: 60_000, maxRetries: 0 });
      this.api = clientBulkApi(options.client ?? this.ownedClient!, prefix, options.template);
    }
    this.actions = new BulkActionLines(prefix);
    this.name = options.name ?? 'elasticsearch';
    this.topic = options.topic ?? 'logs-parsed';
    this.deadLetterTopic = options.deadLetterTopic ?? 'logs-dlq';
    this.maxRecords = options.batch?.maxRecords ?? 5_000;
    this.maxBytes = options.batch?.maxBytes ?? 8 * 1024 * 1024;
    this.lingerMs = options.batch?.lingerMs ?? 10;
    this.maxBuffered = options.maxBufferedRecords ?? 4 * this.maxRecords;
    this.retryInitialMs = options.retry?.initialMs ?? 100;
    this.retryMaxMs = options.retry?.maxMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.metrics = sinkMetrics(options.registry);
    this.log = options.logger ?? createLogger('elasticsearch-sink', { sink: this.name });
    for (const [name, value] of [
      ['batch.maxRecords', this.maxRecords],
      ['batch.maxBytes', this.maxBytes],
      ['maxBufferedRecords', this.maxBuffered],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new LogFlowError('LF_ERR_CONFIG_INVALID', `${name} must be a positive integer, got ${value}`);
      }
    }
  }

  async start(): Promise<void> {
    if (this.started) throw new LogFlowError('LF_ERR_INTERNAL', 'the sink was already started');
    this.started = true;
    const { transport } = this.opts;
    this.producer = transport.producer();
    await this.producer.connect();
    this.consumer = transport.consumer({
      groupId: this.opts.groupId ?? `logflow-${this.name}-sink`,
      fromBeginning: true,
      maxBatchSize: this.maxRecords,
    });
    await this.consumer.connect();
    await this.consumer.subscribe([this.topic]);
    this.metrics.up.set({ sink: this.name }, 1);
    await this.consumer.run({
      eachBatch: (batch) => this.onBatch(batch),
      onAssigned: async (partitions) => {
        for (const tp of partitions) this.owned.set(tpKey(tp), tp);
        // Assigned while Elasticsearch is down: hold these too until it is back.
        if (!this.targetUp) this.pauseAll();
      },
      onRevoked: (partitions) => this.onRevoked(partitions),
    });
    if (this.opts.retentionDays && this.opts.retentionDays > 0) {
      const sweep = () => void this.sweepRetention();
      sweep();
      this.retentionTimer = setInterval(sweep, this.opts.retentionIntervalMs ?? 3_600_000);
      this.retentionTimer.unref();
    }
  }

  /** Idempotent: flushes what it can within stopTimeoutMs, commits it, leaves the group. */
  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  getStats(): SinkStats {
    return {
      ...this.stats,
      buffered: this.buffer.length,
      paused: this.paused.size > 0,
      targetUp: this.targetUp,
      committed: [...this.committed.values()],
    };
  }

  /** Deletes daily indices older than retentionDays now (also runs on the retention interval). */
  async sweepRetention(): Promise<string[]> {
    const days = this.opts.retentionDays ?? 0;
    if (days <= 0) return [];
    try {
      const deleted = await this.api.deleteIndicesOlderThan(this.now() - days * 86_400_000);
      if (deleted.length > 0) this.log.info({ deleted }, 'retention deleted old daily indices');
      return deleted;
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'retention sweep failed; will try again');
      return [];
    }
  }

  private async doStop(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    if (this.started) {
      // Give the in-flight and buffered records a bounded chance to land, then stop retrying.
      const deadline = new Promise<void>((r) => setTimeout(r, this.opts.stopTimeoutMs ?? 10_000).unref());
      await Promise.race([this.flushAll(), deadline]);
      this.stopping = true;
      this.wake();
      await this.pumping?.catch(() => undefined);
      await this.consumer?.disconnect();
      await this.producer?.disconnect();
    }
    this.stopping = true;
    this.buffer = [];
    this.releaseDrainWaiters();
    this.metrics.buffered.set({ sink: this.name }, 0);
    await this.ownedClient?.close();
  }

  private async onBatch(batch: Batch): Promise<void> {
    if (this.stopping) return;
    const tp = { topic: batch.topic, partition: batch.partition };
    this.owned.set(tpKey(tp), tp);
    for (const message of batch.messages) {
      let entry = this.entryOf(message);
      // Only a record whose writer schema is not known yet (or a registry outage) waits here.
      if (entry instanceof Promise) entry = await entry;
      if (this.stopping) return;
      this.buffer.push(entry);
      this.bufferedBytes += entry.bytes;
    }
    this.metrics.buffered.set({ sink: this.name }, this.buffer.length);
    if (this.buffer.length >= this.maxRecords || this.bufferedBytes >= this.maxBytes) {
      this.kick(true);
    } else {
      this.scheduleLinger();
    }
    if (this.buffer.length >= this.maxBuffered) {
      // Backpressure: wait a little for the bulk in flight; if the buffer stays full, stop
      // fetching this partition instead of blocking the consumer (which would miss heartbeats).
      await this.waitForDrain(1_000);
      if (this.buffer.length >= this.maxBuffered) this.pause([tp]);
    }
  }

  private async onRevoked(partitions: TopicPartition[]): Promise<void> {
    // Let the bulk in flight finish (bounded), then forget the revoked partitions' buffered
    // records: their new owner reads them again from the last committed offset.
    if (this.pumping) {
      await Promise.race([
        this.pumping.catch(() => undefined),
        new Promise((r) => setTimeout(r, 5_000).unref()),
      ]);
    }
    const revoked = new Set(partitions.map(tpKey));
    this.buffer = this.buffer.filter((e) => !revoked.has(tpKey(e.message)));
    this.bufferedBytes = this.buffer.reduce((n, e) => n + e.bytes, 0);
    for (const key of revoked) {
      this.owned.delete(key);
      this.paused.delete(key);
    }
    this.metrics.buffered.set({ sink: this.name }, this.buffer.length);
  }

  /**
   * The entry of one record, synchronously when its value decodes synchronously (the usual case:
   * a promise per record cost ~5 % of the sink's CPU); anything else takes `entryOfAsync`.
   */
  private entryOf(message: IncomingMessage): Entry | Promise<Entry> {
    if (message.value === null) return { message, bytes: 0 };
    let decoded: ParsedLog | Promise<ParsedLog>;
    try {
      decoded = this.opts.serde.deserialize(message.topic, message.value);
    } catch {
      return this.entryOfAsync(message); // decides between waiting for the registry and rejecting
    }
    if (decoded instanceof Promise) return this.entryOfAsync(message);
    return this.writableEntry(message, decoded);
  }

  private async entryOfAsync(message: IncomingMessage): Promise<Entry> {
    const size = message.value?.length ?? 0;
    if (message.value === null) return { message, bytes: 0 };
    let log: ParsedLog;
    for (let attempt = 0; ; attempt++) {
      try {
        log = await this.opts.serde.deserialize(message.topic, message.value);
        break;
      } catch (err) {
        // An unreachable schema registry is not the record's fault: wait for it.
        if (err instanceof LogFlowError && err.retriable && !this.stopping) {
          await this.sleep(this.backoff(attempt));
          continue;
        }
        return {
          message,
          bytes: size,
          rejection: { code: 'LF_ERR_SERDE_DESERIALIZE', reason: describeError(err) },
        };
      }
    }
    return this.writableEntry(message, log);
  }

  private writableEntry(message: IncomingMessage, log: ParsedLog): Entry {
    const bad = unindexableReason(log);
    if (bad) {
      const bytes = message.value?.length ?? 0;
      return { message, bytes, rejection: { code: 'LF_ERR_SINK_REJECTED', reason: bad } };
    }
    const action = this.actions.createLine(log.id, log.timestamp);
    const source = JSON.stringify(toEsSource(log));
    return { message, bytes: action.length + source.length + 2, action, source, log };
  }

  private scheduleLinger(): void {
    if (this.lingerTimer || this.pumping) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.kick(false);
    }, this.lingerMs);
  }

  /** Starts the pump unless it runs. `full` says a whole bulk is ready now. */
  private kick(full: boolean): void {
    if (this.pumping || this.stopping) return;
    if (!full && this.buffer.length === 0) return;
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      // What arrived while a bulk was in flight has waited for it already: send it at once, full
      // or not (Nagle-style — under load bulks grow by themselves, a light load is not delayed).
      if (this.buffer.length > 0 && !this.stopping) this.kick(true);
    });
  }

  /** Writes bulks from the head of the buffer until it holds less than one full bulk. */
  private async pump(): Promise<void> {
    let first = true;
    while (!this.stopping && this.buffer.length > 0) {
      const full = this.buffer.length >= this.maxRecords || this.bufferedBytes >= this.maxBytes;
      if (!first && !full) return;
      first = false;
      await this.writeHead();
    }
  }

  /** Everything buffered, now (stop, tests). */
  private async flushAll(): Promise<void> {
    while (!this.stopping) {
      if (this.pumping) {
        await this.pumping.catch(() => undefined);
        continue;
      }
      if (this.buffer.length === 0) return;
      this.pumping = this.writeHead().finally(() => {
        this.pumping = undefined;
      });
    }
  }

  /** Cuts one bulk off the head of the buffer, delivers it completely, then commits it. */
  private async writeHead(): Promise<void> {
    let count = 0;
    let bytes = 0;
    while (count < this.buffer.length && count < this.maxRecords) {
      const next = this.buffer[count].bytes;
      if (count > 0 && bytes + next > this.maxBytes) break;
      bytes += next;
      count++;
    }
    const entries = this.buffer.slice(0, count);
    const delivered = await this.deliver(entries);
    if (!delivered) return; // stopping: nothing committed, the records are read again later
    if (this.buffer[0] === entries[0] && this.buffer[count - 1] === entries[count - 1]) {
      this.buffer.splice(0, count);
      this.bufferedBytes -= bytes;
    } else {
      // A revocation filtered the buffer meanwhile: remove exactly the entries this bulk took.
      const taken = new Set(entries);
      this.buffer = this.buffer.filter((e) => !taken.has(e));
      this.bufferedBytes = this.buffer.reduce((n, e) => n + e.bytes, 0);
    }
    this.metrics.buffered.set({ sink: this.name }, this.buffer.length);
    await this.commit(entries);
    if (this.buffer.length < this.maxBuffered / 2) {
      this.resumeAll();
      this.releaseDrainWaiters();
    }
  }

  /** True once every entry is in Elasticsearch or the dead-letter topic; false when stopping. */
  private async deliver(entries: Entry[]): Promise<boolean> {
    const rejected: Entry[] = [];
    let pending: Entry[] = [];
    for (const e of entries) {
      if (e.rejection) rejected.push(e);
      else if (e.action) pending.push(e);
      else this.metrics.records.inc({ sink: this.name, result: 'skipped' });
    }
    const written: ParsedLog[] = [];
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (this.stopping) return false;
      if (attempt > 0) await this.sleep(this.backoff(attempt - 1));
      if (this.stopping) return false;
      const retry: Entry[] = [];
      const started = performance.now();
      try {
        if (!this.templateReady) {
          const update = await this.api.putTemplate();
          this.templateReady = true;
          if (update?.updated.length) this.log.info({ indices: update.updated }, 'added new template fields');
          for (const f of update?.failed ?? []) {
            this.log.warn(f, 'could not add new template fields to an existing index');
          }
        }
        const lines: string[] = [];
        for (const e of pending) lines.push(e.action!, e.source!);
        const { items } = await this.api.bulk(lines);
        if (items.length !== pending.length) {
          throw new LogFlowError(
            'LF_ERR_SERVICE_UNAVAILABLE',
            `bulk answered ${items.length} items for ${pending.length}`,
            {
              retriable: true,
            },
          );
        }
        // Counted per bulk, not per item: a labelled prom-client inc per record was ~1 % of the CPU.
        let fresh = 0;
        let duplicates = 0;
        items.forEach((item, i) => {
          const e = pending[i];
          // The common answer, without building an outcome object for each item.
          if (item.status === 201 || item.status === 200) {
            written.push(e.log!);
            fresh++;
            return;
          }
          const outcome = itemOutcome(item);
          if (outcome.kind === 'written') {
            written.push(e.log!);
            if (outcome.duplicate) duplicates++;
            else fresh++;
          } else if (outcome.kind === 'retry') {
            retry.push(e);
          } else {
            e.rejection = { code: 'LF_ERR_SINK_REJECTED', reason: outcome.reason, status: outcome.status };
            rejected.push(e);
          }
        });
        this.stats.written += fresh;
        this.stats.duplicates += duplicates;
        if (fresh > 0) this.metrics.records.inc({ sink: this.name, result: 'written' }, fresh);
        if (duplicates > 0) this.metrics.records.inc({ sink: this.name, result: 'duplicate' }, duplicates);
        this.stats.bulks++;
        this.metrics.bulkDuration.observe(
          { sink: this.name, outcome: retry.length + rejected.length > 0 ? 'partial' : 'ok' },
          (performance.now() - started) / 1000,
        );
        this.setTargetUp(true);
        if (retry.length > 0) {
          this.stats.retriedItems += retry.length;
          this.metrics.records.inc({ sink: this.name, result: 'retried' }, retry.length);
          // Everything throttled: the cluster is overloaded, so stop reading until it copes.
          if (retry.length === pending.length) this.pauseAll();
        }
        pending = retry;
      } catch (err) {
        this.stats.failedRequests++;
        this.metrics.bulkDuration.observe(
          { sink: this.name, outcome: 'failed' },
          (performance.now() - started) / 1000,
        );
        if (this.targetUp || attempt % 20 === 0) {
          this.log.warn(
            { err: describeError(err), records: pending.length, attempt },
            'bulk request failed; pausing and retrying',
          );
        }
        this.setTargetUp(false);
      }
    }
    if (rejected.length > 0 && !(await this.deadLetter(rejected))) return false;
    if (written.length > 0) this.opts.onWritten?.(written, this.now());
    return true;
  }

  private async deadLetter(entries: Entry[]): Promise<boolean> {
    const messages = entries.map((e) => {
      const headers: Headers = {
        ...e.message.headers,
        [DEAD_LETTER_HEADERS.code]: Buffer.from(e.rejection!.code),
        [DEAD_LETTER_HEADERS.reason]: Buffer.from(e.rejection!.reason.slice(0, 2_000)),
        [DEAD_LETTER_HEADERS.kind]: Buffer.from(
          e.rejection!.code === 'LF_ERR_SERDE_DESERIALIZE' ? 'deserialization' : 'sink',
        ),
        [DEAD_LETTER_HEADERS.stage]: Buffer.from(`${this.name}-sink`),
        [DEAD_LETTER_HEADERS.topic]: Buffer.from(e.message.topic),
        [DEAD_LETTER_HEADERS.partition]: Buffer.from(String(e.message.partition)),
        [DEAD_LETTER_HEADERS.offset]: Buffer.from(String(e.message.offset)),
      };
      if (e.rejection!.status !== undefined)
        headers[DEAD_LETTER_HEADERS.status] = Buffer.from(String(e.rejection!.status));
      return {
        topic: this.deadLetterTopic,
        key: e.message.key,
        value: e.message.value,
        headers,
        timestamp: e.message.timestamp,
      };
    });
    for (let attempt = 0; ; attempt++) {
      if (this.stopping) return false;
      try {
        await this.producer!.send(messages);
        this.stats.deadLettered += entries.length;
        this.metrics.records.inc({ sink: this.name, result: 'dead_lettered' }, entries.length);
        // One line per bulk, not per record: a broken mapping can reject thousands at once.
        const first = entries[0];
        this.log.warn(
          {
            records: entries.length,
            deadLetterTopic: this.deadLetterTopic,
            first: {
              topic: first.message.topic,
              partition: first.message.partition,
              offset: first.message.offset,
            },
            reason: first.rejection!.reason,
          },
          'records dead-lettered',
        );
        return true;
      } catch (err) {
        this.log.warn({ err: describeError(err), attempt }, 'dead-letter write failed; retrying');
        await this.sleep(this.backoff(attempt));
      }
    }
  }

  private async commit(entries: Entry[]): Promise<void> {
    const next = new Map<string, TopicPartitionOffset>();
    let last: TopicPartitionOffset | undefined;
    for (const e of entries) {
      const m = e.message;
      // Runs of one partition (the usual bulk) skip the key string and the map lookup.
      if (last && last.partition === m.partition && last.topic === m.topic) {
        if (last.offset < m.offset + 1) last.offset = m.offset + 1;
        continue;
      }
      const key = tpKey(m);
      last = next.get(key);
      if (!last) {
        last = { topic: m.topic, partition: m.partition, offset: m.offset + 1 };
        next.set(key, last);
      } else if (last.offset < m.offset + 1) {
        last.offset = m.offset + 1;
      }
    }
    if (next.size === 0) return;
    try {
      await this.consumer!.commit([...next.values()]);
      for (const [key, tpo] of next) this.committed.set(key, tpo);
    } catch (err) {
      // A commit lost to a rebalance only means the new owner re-reads (and re-writes idempotently).
      this.log.warn({ err: describeError(err) }, 'offset commit failed');
    }
  }

  private setTargetUp(up: boolean): void {
    if (up === this.targetUp) return;
    this.targetUp = up;
    this.metrics.up.set({ sink: this.name }, up ? 1 : 0);
    if (up) {
      this.log.info('Elasticsearch is accepting writes again; resuming');
      if (this.buffer.length < this.maxBuffered) this.resumeAll();
    } else {
      // The cluster may come back empty (a rebuilt node): put the template again before writing.
      this.templateReady = false;
      this.pauseAll();
    }
  }

  private pause(partitions: TopicPartition[]): void {
    const fresh = partitions.filter((tp) => !this.paused.has(tpKey(tp)));
    if (fresh.length === 0 || !this.consumer) return;
    for (const tp of fresh) this.paused.set(tpKey(tp), tp);
    this.consumer.pause(fresh);
  }

  private pauseAll(): void {
    this.pause([...this.owned.values()]);
  }

  private resumeAll(): void {
    if (this.paused.size === 0 || !this.targetUp || !this.consumer) return;
    const partitions = [...this.paused.values()];
    this.paused.clear();
    this.consumer.resume(partitions);
  }

  private waitForDrain(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private backoff(attempt: number): number {
    const ms = Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** Math.min(attempt, 20));
    // Full jitter on the upper half, so many sinks do not retry in lock-step.
    return ms / 2 + Math.random() * (ms / 2);
  }

  /** A sleep that `stop()` cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeSleepers = self.wakeSleepers.filter((w) => w !== done);
        resolve();
      }
      this.wakeSleepers.push(done);
    });
  }

  private wake(): void {
    for (const w of [...this.wakeSleepers]) w();
  }
}

export function createElasticsearchSink(options: ElasticsearchSinkOptions): ElasticsearchSink {
  return new ElasticsearchSink(options);
}
