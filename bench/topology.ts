/**
 * `npm run bench -- topology [--records N] [--partitions P] [--keys K] [--concurrency C] [--only a,b]`
 *
 * Through the real broker (`logflow services up`), in one run: a raw kafkajs consume→produce
 * passthrough (the client's ceiling), the same through LogFlow's KafkaTransport, a stateless
 * Avro→Avro stage, a windowed aggregate, and the stateless stage exactly-once vs at-least-once.
 * Prints a table with records/s and ratios to the ceiling and writes bench/results/topology-<date>.json.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../common/config.ts';
import { randomName } from '../test/helpers/names.ts';
import { SchemaRegistryClient } from '../topology/serdes/schema-registry.ts';
import { KafkaTransport } from '../topology/transport/kafka-transport.ts';
import { printTable, writeResults } from './results.ts';
import {
  type PhaseContext,
  type PhaseResult,
  rawConsumeOnly,
  rawPassthrough,
  transportPassthrough,
} from './topology-phases.ts';
import { type Workload, writeWorkload } from './topology-workload.ts';

export const description =
  'stream-processing throughput on the real broker: kafkajs ceiling vs stateless, windowed, exactly-once stages';

type Phase = { name: string; run: (ctx: PhaseContext) => Promise<PhaseResult> };

async function frameworkPhases(): Promise<Phase[]> {
  try {
    const mod = await import('./topology-framework.ts');
    return mod.PHASES as Phase[];
  } catch (err) {
    console.error(`framework phases unavailable: ${(err as Error).message}`);
    return [];
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      records: { type: 'string', default: '1000000' },
      partitions: { type: 'string', default: '6' },
      keys: { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '6' },
      'max-batch': { type: 'string' },
      rounds: { type: 'string', default: '3' },
      only: { type: 'string' },
      /** Reuse an input topic written by an earlier run (with --keep-input); skips writing it. */
      input: { type: 'string' },
      'keep-input': { type: 'boolean', default: false },
    },
  });
  const config = loadConfig();
  const workload: Workload = {
    records: Number(values.records),
    partitions: Number(values.partitions),
    keys: Number(values.keys),
    // Recent event times (the broker deletes records older than its retention by their timestamps).
    startMs: Date.now() - Number(values.records) * 10,
    stepMs: 10,
  };
  const transport = new KafkaTransport({
    clientId: 'logflow-bench',
    consumer: { partitionsConsumedConcurrently: Number(values.concurrency) },
  });
  const registry = new SchemaRegistryClient({ url: config.schemaRegistryUrl });
  const topics: string[] = [];
  const input = values.input ?? randomName('bench-input');
  const phases: Phase[] = [
    { name: 'consume', run: rawConsumeOnly },
    { name: 'raw', run: rawPassthrough },
    { name: 'transport', run: transportPassthrough },
    ...(await frameworkPhases()),
  ].filter((p) => !values.only || values.only.split(',').includes(p.name));

  const results: PhaseResult[] = [];
  try {
    let avgBytes: number;
    if (values.input) {
      const ends = await transport.endOffsets(input);
      workload.records = ends.reduce((s, e) => s + e.offset, 0);
      workload.partitions = ends.length;
      avgBytes = Number.NaN;
      console.log(`reusing ${input}: ${workload.records} records, ${workload.partitions} partitions`);
    } else {
      await transport.ensureTopics([
        { name: input, partitions: workload.partitions, configs: { 'retention.ms': '-1' } },
      ]);
      if (!values['keep-input']) topics.push(input);
      console.log(
        `workload: ${workload.records.toLocaleString('en-US')} records, ${workload.partitions} partitions, ${workload.keys} keys`,
      );
      const t = performance.now();
      avgBytes = await writeWorkload(transport.kafka, registry, input, workload);
      console.log(
        `input ${input} written in ${((performance.now() - t) / 1000).toFixed(1)} s; average Avro value ${avgBytes.toFixed(0)} bytes`,
      );
    }
    const ctx: PhaseContext = {
      kafka: transport.kafka,
      transport,
      input,
      partitions: workload.partitions,
      records: workload.records,
      concurrency: Number(values.concurrency),
      maxBatchSize: values['max-batch'] ? Number(values['max-batch']) : undefined,
      registry,
      workload,
      outputTopic: async () => {
        const name = randomName('bench-output');
        await transport.ensureTopics([{ name, partitions: workload.partitions }]);
        topics.push(name);
        return name;
      },
      trackTopic: (name: string) => topics.push(name),
    };
    // Rounds interleave the phases, so a change in machine load (the machine is shared) hits every
    // phase alike; each phase reports its median round, and ratios are taken round by round.
    const rounds: PhaseResult[][] = [];
    for (let round = 1; round <= Number(values.rounds); round++) {
      const thisRound: PhaseResult[] = [];
      for (const phase of phases) {
        process.stdout.write(`round ${round}: ${phase.name}… `);
        const r = await phase.run(ctx);
        thisRound.push(r);
        console.log(`${Math.round(r.recordsPerSecond).toLocaleString('en-US')} records/s`);
      }
      rounds.push(thisRound);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ceilingIndex = phases.findIndex((p) => p.name === 'raw');
    for (let i = 0; i < phases.length; i++) {
      const runs = rounds.map((r) => r[i]);
      const ratios =
        ceilingIndex >= 0 ? rounds.map((r) => r[i].recordsPerSecond / r[ceilingIndex].recordsPerSecond) : [];
      const mid = runs.find((r) => r.recordsPerSecond === median(runs.map((x) => x.recordsPerSecond)))!;
      results.push({
        ...mid,
        rounds: runs.map((r) => Math.round(r.recordsPerSecond)),
        ratioToCeiling: ratios.length ? median(ratios) : undefined,
      });
    }
    console.log('');
    printTable(
      results.map((r) => ({
        phase: r.phase,
        records: r.records,
        'records/s (median)': Math.round(r.recordsPerSecond),
        'each round': (r.rounds ?? []).map((n) => n.toLocaleString('en-US')).join(' / '),
        'vs ceiling (median)':
          r.ratioToCeiling === undefined ? '-' : `${(100 * r.ratioToCeiling).toFixed(0)}%`,
        note: r.note ?? '',
      })),
    );
    const file = writeResults('topology', {
      loadAverage: loadavg(),
      workload: { ...workload, avgValueBytes: Math.round(avgBytes) },
      rounds: Number(values.rounds),
      phases: results,
    });
    console.log(`\nresults written to ${file}`);
  } finally {
    await transport.deleteTopics(topics).catch(() => {});
    await transport.close();
  }
}
