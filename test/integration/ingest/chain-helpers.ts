/**
 * The real ingest chain for end-to-end tests: files → `logflow ship` (a child process the test can
 * kill -9) → Kafka logs-raw (Avro, Schema Registry) → the parse stage's topology → logs-parsed →
 * the Elasticsearch sink → Elasticsearch, on random topics, groups and index prefix. The parse
 * topology, its streams config and the sink come from the same builders `app/stages.ts` uses; only
 * the names are random (the stages' fixed group ids would join the shared `logflow-parse` group).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { AppContext } from '../../../app/context.ts';
import type { LogFlowConfig } from '../../../common/config.ts';
import { createElasticsearchSink, type ElasticsearchSink } from '../../../connectors/elasticsearch/sink.ts';
import { buildParseTopology, parseStreamsConfig } from '../../../pipeline/parse/parse-topology.ts';
import type { RawLog } from '../../../pipeline/parse/raw-log.ts';
import { LogFlowStreams } from '../../../topology/index.ts';
import { randomName } from '../../helpers/names.ts';
import { createTopic, registerCleanup, registryUrl, serviceConfig } from '../../helpers/services.ts';
import { tcpProxy } from '../../helpers/tcp-proxy.ts';
import { ackedBytes, spawnShipper } from './shipper-process.ts';

export { exited } from './shipper-process.ts';

export interface Chain {
  config: LogFlowConfig;
  ctx: AppContext;
  dir: string;
  indexPrefix: string;
  parseGroup: string;
  sinkGroup: string;
  sink: ElasticsearchSink;
  es: Client;
  /** Starts `logflow ship <file>` on the chain's logs-raw with a checkpoint in the chain's dir. */
  startShipper(file: string): ChildProcess;
  /** The last lines the shipper processes wrote to stderr (warnings and errors). */
  shipperLog(): string;
  checkpointText(): string;
  /** Sum of the acknowledged offsets in the shipper's checkpoint (0 before the first write). */
  ackedBytes(): number;
  /** Every record of logs-raw, decoded. */
  rawRecords(): Promise<RawLog[]>;
  /** Whether parse and sink committed everything their input topics hold. */
  settled(): Promise<boolean>;
  /** Every document of the chain's indices: id and message. */
  documents(): Promise<{ id: string; message: string }[]>;
  count(): Promise<number>;
}

export async function startChain(options: { elasticsearchUrl?: string } = {}): Promise<Chain> {
  const base = serviceConfig();
  const dir = mkdtempSync(join(tmpdir(), 'lf-chain-'));
  registerCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const [raw, parsed, deadLetter] = await Promise.all([
    createTopic({ prefix: 'lf-chain-raw', partitions: 3 }),
    createTopic({ prefix: 'lf-chain-parsed', partitions: 3 }),
    createTopic({ prefix: 'lf-chain-dlq', partitions: 1 }),
  ]);
  const config: LogFlowConfig = {
    ...base,
    mode: 'kafka',
    dataDir: join(dir, 'data'),
    partitions: 3,
    guarantee: 'at_least_once',
    topics: { ...base.topics, raw, parsed, deadLetter },
  };
  const ctx = new AppContext(config);
  const es = new Client({ node: base.elasticsearchUrl });
  const indexPrefix = randomName('lfit-chain');
  const parseGroup = randomName('lf-chain-parse');
  const sinkGroup = randomName('lf-chain-sink');
  registerCleanup(async () => {
    await ctx.close();
    await es.indices.delete({ index: `${indexPrefix}-*`, expand_wildcards: 'all' }, { ignore: [404] });
    await es.indices.deleteIndexTemplate({ name: `${indexPrefix}-template` }, { ignore: [404] });
    await es.close();
    for (const topic of [raw, parsed]) {
      const subject = `${registryUrl()}/subjects/${encodeURIComponent(`${topic}-value`)}`;
      await fetch(subject, { method: 'DELETE' }).catch(() => {});
      await fetch(`${subject}?permanent=true`, { method: 'DELETE' }).catch(() => {});
    }
  });

  // The parse stage: the topology and streams config `logflow run parse` uses, under a random group.
  const streams = new LogFlowStreams(buildParseTopology(config, ctx.serdes), {
    ...parseStreamsConfig(config),
    applicationId: parseGroup,
    transport: ctx.transport,
    metricsRegistry: ctx.registry,
    defaultPartitions: config.partitions,
    processingGuarantee: config.guarantee,
    instanceId: randomName('lf-chain'),
  });
  await streams.start();
  registerCleanup(() => streams.close());

  // The index stage's sink (kafka mode), with a random index prefix and group.
  const sink = createElasticsearchSink({
    transport: ctx.transport,
    serde: ctx.serdes.parsed,
    node: options.elasticsearchUrl ?? config.elasticsearchUrl,
    indexPrefix,
    topic: parsed,
    deadLetterTopic: deadLetter,
    groupId: sinkGroup,
    registry: ctx.registry,
    retry: { initialMs: 100, maxMs: 2_000 },
    stopTimeoutMs: 2_000,
  });
  await sink.start();
  registerCleanup(() => sink.stop());

  const checkpoint = join(dir, 'shipper-checkpoint.json');
  const children = new Set<ChildProcess>();
  let shipperLog = '';
  registerCleanup(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  const committedAll = async (group: string, topic: string) => {
    const [ends, committed] = await Promise.all([
      ctx.transport.endOffsets(topic),
      ctx.transport.committedOffsets(group, topic),
    ]);
    return ends.every(
      (e) => e.offset === 0 || committed.find((c) => c.partition === e.partition)?.offset === e.offset,
    );
  };

  return {
    config,
    ctx,
    dir,
    indexPrefix,
    parseGroup,
    sinkGroup,
    sink,
    es,
    startShipper(file) {
      const child = spawnShipper({
        file,
        checkpoint,
        topic: raw,
        logLevel: process.env.CHAIN_SHIPPER_LOG ?? 'warn',
        // The tail is kept for failure messages.
        onStderr: (d) => {
          shipperLog = (shipperLog + d).slice(-8_000);
        },
      });
      children.add(child);
      return child;
    },
    shipperLog: () => shipperLog,
    checkpointText: () => {
      try {
        return readFileSync(checkpoint, 'utf8');
      } catch {
        return '';
      }
    },
    ackedBytes: () => ackedBytes(checkpoint),
    async rawRecords() {
      const out: RawLog[] = [];
      for (let p = 0; p < config.partitions; p++) {
        for await (const batch of ctx.transport.readPartition(raw, p)) {
          for (const m of batch) out.push(await ctx.serdes.raw.deserialize(raw, m.value));
        }
      }
      return out;
    },
    async settled() {
      return (await committedAll(parseGroup, raw)) && (await committedAll(sinkGroup, parsed));
    },
    async documents() {
      await es.indices.refresh({
        index: `${indexPrefix}-*`,
        ignore_unavailable: true,
        allow_no_indices: true,
      });
      const docs: { id: string; message: string }[] = [];
      let after: (string | number)[] | undefined;
      for (;;) {
        const r = await es.search<{ message: string }>({
          index: `${indexPrefix}-*`,
          size: 5_000,
          sort: [{ timestamp: 'asc' }, { sort_key: 'asc' }],
          search_after: after,
          _source: ['message'],
          ignore_unavailable: true,
          allow_no_indices: true,
        });
        const hits = r.hits.hits;
        if (hits.length === 0) return docs;
        for (const h of hits) docs.push({ id: h._id!, message: h._source?.message ?? '' });
        after = hits[hits.length - 1].sort as (string | number)[];
      }
    },
    async count() {
      await es.indices.refresh({
        index: `${indexPrefix}-*`,
        ignore_unavailable: true,
        allow_no_indices: true,
      });
      const r = await es.count({
        index: `${indexPrefix}-*`,
        ignore_unavailable: true,
        allow_no_indices: true,
      });
      return r.count;
    },
  };
}

/** A TCP proxy to Elasticsearch the test can cut (refuse and drop connections) and restore. */
export const elasticsearchProxy = () => tcpProxy(serviceConfig().elasticsearchUrl, 9200);
