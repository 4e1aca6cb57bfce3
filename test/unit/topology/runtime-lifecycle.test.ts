import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  Consumed,
  closeOnSignals,
  LogFlowStreams,
  MemoryTransport,
  type Processor,
  type ProcessorContext,
  Produced,
  TopologyBuilder,
} from '../../../topology/index.ts';
import { Serdes } from '../../../topology/serdes/index.ts';
import type { Producer, Transport } from '../../../topology/transport/transport.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const S = Serdes.String();

function passthrough(onRecord: () => void = () => {}) {
  const b = new TopologyBuilder();
  b.stream('in', Consumed.with(S, S))
    .peek(() => onRecord(), 'count-in')
    .to('out', Produced.with(S, S));
  return b.build();
}

async function produce(transport: Transport, n: number) {
  await transport
    .producer()
    .send(Array.from({ length: n }, (_, i) => ({ topic: 'in', key: null, value: Buffer.from(`v${i}`) })));
}

describe('LogFlowStreams lifecycle', () => {
  it('pauses partitions while too many batches await acks, and resumes when they are acknowledged', async () => {
    const memory = new MemoryTransport();
    await memory.ensureTopics([{ name: 'in', partitions: 1 }]);
    const gates: Array<() => void> = [];
    // A transport whose producer acknowledges only when the test says so (a slow broker).
    const slow: Transport = Object.assign(Object.create(memory) as Transport, {
      producer: (): Producer => {
        const real = memory.producer();
        return {
          connect: () => real.connect(),
          disconnect: () => real.disconnect(),
          transaction: () => real.transaction(),
          send: (messages) => new Promise((resolve) => gates.push(() => resolve(real.send(messages)))),
        };
      },
    });
    let processed = 0;
    const streams = new LogFlowStreams(
      passthrough(() => processed++),
      {
        applicationId: 'bp',
        transport: slow,
        maxBatchSize: 10,
        maxInFlightBatches: 2,
        commitIntervalMs: 10,
      },
    );
    await streams.start();
    await produce(memory, 100);
    await waitFor(() => processed === 30);
    // Three batches await acks (> 2): the partition is paused, nothing more is fetched.
    await new Promise((r) => setTimeout(r, 50));
    expect(processed).toBe(30);
    expect((await memory.committedOffsets('bp', 'in'))[0].offset).toBe(-1);
    const release = async () => {
      while (gates.length > 0) gates.shift()!();
    };
    const releaser = setInterval(() => void release(), 5);
    await waitFor(async () => (await memory.committedOffsets('bp', 'in'))[0].offset === 100);
    clearInterval(releaser);
    expect(processed).toBe(100);
    const closing = streams.close();
    await release();
    await closing;
  });

  it('fires wall-clock punctuators on the runtime', async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopics([{ name: 'in', partitions: 1 }]);
    class Ticker implements Processor<string, string> {
      init(ctx: ProcessorContext<string, string>) {
        ctx.schedule(20, 'wall-clock', (t) =>
          ctx.forward({
            key: 'tick',
            value: String(t),
            timestamp: t,
            headers: {},
            topic: '',
            partition: 0,
            offset: -1,
          }),
        );
      }
      process() {}
    }
    const b = new TopologyBuilder();
    b.stream('in', Consumed.with(S, S))
      .process(() => new Ticker())
      .to('ticks', Produced.with(S, S));
    const streams = new LogFlowStreams(b.build(), { applicationId: 'tick', transport, wallClockTickMs: 10 });
    await streams.start();
    try {
      await waitFor(async () => (await transport.endOffsets('ticks'))[0].offset >= 2);
    } finally {
      await streams.close();
    }
  });

  it('exposes the stage metrics on its registry', async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopics([{ name: 'in', partitions: 2 }]);
    const streams = new LogFlowStreams(passthrough(), {
      applicationId: 'm',
      transport,
      commitIntervalMs: 10,
    });
    await streams.start();
    await produce(transport, 10);
    await waitFor(
      async () =>
        (await transport.committedOffsets('m', 'in')).reduce((n, o) => n + Math.max(0, o.offset), 0) === 10,
    );
    const text = await streams.registry.metrics();
    await streams.close();
    expect(text).toMatch(/logflow_stage_records_in_total\{application="m",stage="count-in"\} 10/);
    expect(text).toMatch(/logflow_stage_records_out_total\{application="m",stage="count-in"\} 10/);
    expect(text).toMatch(
      /logflow_stage_records_out_total\{application="m",stage="KSTREAM-SINK-0000000001"\} 10/,
    );
    expect(text).toMatch(/logflow_consumer_lag\{group="m",topic="in",partition="\d"\} 0/);
    expect(text).toMatch(/logflow_commit_latency_seconds_count\{group="m"\} [1-9]/);
    expect(text).toMatch(/logflow_stage_latency_seconds_count\{application="m",stage="m\/0"\} [1-9]/);
  });

  it('keeps same-named stages of two applications on one registry apart', async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopics([{ name: 'in', partitions: 2 }]);
    const registry = new Registry();
    const apps = ['first', 'second'].map(
      (applicationId) =>
        new LogFlowStreams(passthrough(), {
          applicationId,
          transport,
          commitIntervalMs: 10,
          metricsRegistry: registry,
        }),
    );
    for (const app of apps) await app.start();
    try {
      await produce(transport, 10);
      for (const id of ['first', 'second']) {
        await waitFor(
          async () =>
            (await transport.committedOffsets(id, 'in')).reduce((n, o) => n + Math.max(0, o.offset), 0) ===
            10,
        );
      }
    } finally {
      for (const app of apps) await app.close();
    }
    const text = await registry.metrics();
    expect(text).toMatch(/logflow_stage_records_in_total\{application="first",stage="count-in"\} 10\n/);
    expect(text).toMatch(/logflow_stage_records_in_total\{application="second",stage="count-in"\} 10\n/);
  });

  it('closes on SIGTERM: drains, commits and leaves the group', async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopics([{ name: 'in', partitions: 1 }]);
    const streams = new LogFlowStreams(passthrough(), {
      applicationId: 'sig',
      transport,
      commitIntervalMs: 60_000,
    });
    await streams.start();
    await produce(transport, 5);
    await waitFor(async () => (await transport.endOffsets('out'))[0].offset === 5);
    const uninstall = closeOnSignals([streams], { exit: false });
    try {
      process.emit('SIGTERM', 'SIGTERM');
      await waitFor(() => streams.state === 'NOT_RUNNING');
    } finally {
      uninstall();
    }
    // The commit interval never elapsed: the offsets were committed by the close.
    expect((await transport.committedOffsets('sig', 'in'))[0].offset).toBe(5);
    expect(transport.group('sig').size).toBe(0);
  });
});
