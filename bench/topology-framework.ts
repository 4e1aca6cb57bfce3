/**
 * The benchmark phases that run through LogFlow's topology runtime (LogFlowStreams on the
 * KafkaTransport): a stateless Avro→Avro stage (at-least-once and exactly-once) and a windowed
 * count. A `peek` as the first stage marks the first record processed.
 */
import { randomName } from '../test/helpers/names.ts';
import {
  Consumed,
  EmitStrategy,
  LogFlowStreams,
  LongSerde,
  type ProcessingGuarantee,
  Produced,
  Serdes,
  TimeWindows,
  TopologyBuilder,
  WindowedSerdes,
} from '../topology/index.ts';
import { AvroSerde } from '../topology/serdes/avro-serde.ts';
import { type PhaseContext, type PhaseResult, result, waitCommitted } from './topology-phases.ts';
import type { RawLog } from './topology-workload.ts';

const WINDOW_MS = 60_000;

async function runStreams(
  ctx: PhaseContext,
  phase: string,
  guarantee: ProcessingGuarantee,
  build: (builder: TopologyBuilder, output: string, mark: () => void) => void,
  note?: string,
): Promise<PhaseResult> {
  const output = await ctx.outputTopic();
  const applicationId = randomName('bench-app');
  let t0 = 0;
  const builder = new TopologyBuilder();
  build(builder, output, () => {
    if (t0 === 0) t0 = performance.now();
  });
  const streams = new LogFlowStreams(builder.build(), {
    applicationId,
    transport: ctx.transport,
    processingGuarantee: guarantee,
    // Short, so the last commit (which ends the measurement) comes soon after the last record.
    commitIntervalMs: 100,
    defaultPartitions: ctx.partitions,
    maxBatchSize: ctx.maxBatchSize,
  });
  await streams.start();
  try {
    const t1 = await waitCommitted(ctx, applicationId);
    const ends = await ctx.transport.endOffsets(output);
    return result(phase, ctx.records, t0, t1, {
      outputRecords: ends.reduce((s, e) => s + e.offset, 0),
      note,
    });
  } finally {
    await streams.close();
    const admin = await ctx.transport.admin();
    for (const topic of await admin.listTopics()) if (topic.startsWith(applicationId)) ctx.trackTopic(topic);
  }
}

function stateless(guarantee: ProcessingGuarantee, phase: string) {
  return (ctx: PhaseContext) =>
    runStreams(ctx, phase, guarantee, (builder, output, mark) => {
      const avro = new AvroSerde<RawLog>({ registry: ctx.registry, schema: 'logs-raw' });
      builder
        .stream(ctx.input, Consumed.with(Serdes.String(), avro))
        .peek(mark)
        .mapValues((v) => ({ ...v, metadata: { ...v.metadata, source: 'bench-stage' } }))
        .to(output, Produced.with(Serdes.String(), avro));
    });
}

function windowed(emit: EmitStrategy, phase: string, note: string) {
  return (ctx: PhaseContext) =>
    runStreams(
      ctx,
      phase,
      'at_least_once',
      (builder, output, mark) => {
        const avro = new AvroSerde<RawLog>({ registry: ctx.registry, schema: 'logs-raw' });
        builder
          .stream(ctx.input, Consumed.with(Serdes.String(), avro))
          .peek(mark)
          .groupByKey()
          .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW_MS, 5_000))
          .emitStrategy(emit)
          .count()
          .toStream()
          .to(
            output,
            Produced.with(WindowedSerdes.timeWindowed(Serdes.String(), WINDOW_MS), new LongSerde()),
          );
      },
      note,
    );
}

export const PHASES = [
  { name: 'stateless', run: stateless('at_least_once', 'stateless Avro→Avro, at-least-once') },
  {
    name: 'windowed',
    run: windowed(
      EmitStrategy.onWindowUpdate(),
      'windowed count (1 min), emit on update',
      'output + changelog per record',
    ),
  },
  {
    name: 'windowed-final',
    run: windowed(
      EmitStrategy.onWindowClose(),
      'windowed count (1 min), emit on close',
      'final results only',
    ),
  },
  { name: 'eos', run: stateless('exactly_once', 'stateless Avro→Avro, exactly-once') },
];
