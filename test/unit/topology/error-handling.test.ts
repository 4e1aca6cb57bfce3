import { afterEach, describe, expect, it } from 'vitest';
import {
  Consumed,
  DLQ_HEADERS,
  ErrorHandlers,
  LogFlowStreams,
  MemoryTransport,
  Produced,
  TopologyBuilder,
  TopologyTestDriver,
} from '../../../topology/index.ts';
import { Serdes } from '../../../topology/serdes/index.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const S = Serdes.String();
const J = Serdes.Json<{ n: number }>();
const B = Serdes.Bytes();
let driver: TopologyTestDriver | undefined;
afterEach(() => driver?.close());

function topology() {
  const b = new TopologyBuilder();
  b.stream('in', Consumed.with(S, J))
    .mapValues((v) => {
      if (v.n < 0) throw new Error('negative');
      return { n: v.n * 2 };
    }, 'double')
    .to('out', Produced.with(S, J));
  return b.build();
}

describe('error handling', () => {
  it('continue: a poison record and a failing record are skipped, the rest flows on', () => {
    driver = new TopologyTestDriver(topology(), {
      deserializationErrorHandler: 'continue',
      processingErrorHandler: 'continue',
    });
    const raw = driver.createInputTopic('in', S, S);
    raw.pipeInput('a', '{"n":1}');
    raw.pipeInput('b', 'not json');
    raw.pipeInput('c', '{"n":-1}');
    raw.pipeInput('d', '{"n":3}');
    expect(driver.createOutputTopic('out', S, J).readValuesToList()).toEqual([{ n: 2 }, { n: 6 }]);
  });

  it('fail: processing stops with the error code of the failure', () => {
    driver = new TopologyTestDriver(topology(), { deserializationErrorHandler: 'fail' });
    const raw = driver.createInputTopic('in', S, S);
    raw.pipeInput('a', '{"n":1}');
    expect(() => raw.pipeInput('b', 'not json')).toThrow(
      expect.objectContaining({ code: 'LF_ERR_SERDE_DESERIALIZE' }),
    );
  });

  it('dead-letter: original bytes and headers plus error and source headers', () => {
    driver = new TopologyTestDriver(topology(), {
      deserializationErrorHandler: ErrorHandlers.deadLetter('dlq'),
      processingErrorHandler: ErrorHandlers.deadLetter('dlq'),
    });
    const raw = driver.createInputTopic('in', S, S);
    raw.pipeInput('p', 'not json', 5, { trace: Buffer.from('t-1') });
    raw.pipeInput('n', '{"n":-1}', 6);
    raw.pipeInput('ok', '{"n":2}', 7);
    expect(driver.createOutputTopic('out', S, J).readValuesToList()).toEqual([{ n: 4 }]);
    const dead = driver.createOutputTopic('dlq', S, B).readRecordsToList();
    expect(dead).toHaveLength(2);
    const h = (i: number, name: string) => dead[i].headers[name]?.toString();
    expect(dead[0].key).toBe('p');
    expect(dead[0].value.toString()).toBe('not json');
    expect(h(0, 'trace')).toBe('t-1');
    expect(h(0, DLQ_HEADERS.errorKind)).toBe('deserialization');
    expect(h(0, DLQ_HEADERS.errorCode)).toBe('LF_ERR_SERDE_DESERIALIZE');
    expect(h(0, DLQ_HEADERS.errorMessage)).toMatch(/not JSON/);
    expect(h(0, DLQ_HEADERS.sourceTopic)).toBe('in');
    expect(h(0, DLQ_HEADERS.sourcePartition)).toBe('0');
    expect(h(0, DLQ_HEADERS.sourceOffset)).toBe('0');
    expect(h(1, DLQ_HEADERS.errorKind)).toBe('processing');
    expect(h(1, DLQ_HEADERS.errorCode)).toBe('LF_ERR_PROCESSING');
    expect(h(1, DLQ_HEADERS.stage)).toBe('double');
    expect(h(1, DLQ_HEADERS.errorMessage)).toBe('Error: negative');
    expect(h(1, DLQ_HEADERS.sourceOffset)).toBe('1');
    expect(dead[1].value.toString()).toBe('{"n":-1}');
  });

  it('a handler function decides per record, and errors are counted per stage and kind', async () => {
    driver = new TopologyTestDriver(topology(), {
      processingErrorHandler: (ctx) => (ctx.stage === 'double' ? 'continue' : 'fail'),
      deserializationErrorHandler: 'continue',
    });
    const raw = driver.createInputTopic('in', S, S);
    raw.pipeInput('a', '{"n":-1}');
    raw.pipeInput('b', 'garbage');
    const text = await driver.metrics.registry.metrics();
    expect(text).toMatch(
      /logflow_stage_errors_total\{application="test-app",stage="double",kind="processing"\} 1/,
    );
    expect(text).toMatch(
      /logflow_stage_errors_total\{application="test-app",stage="KSTREAM-SOURCE-0000000000",kind="deserialization"\} 1/,
    );
  });

  it('a serialization failure at a sink goes to the handler too', () => {
    const b = new TopologyBuilder();
    b.stream('in', Consumed.with(S, S))
      .mapValues((v) => (v === 'bad' ? (123 as unknown as string) : v))
      .to('out', Produced.with(S, S));
    driver = new TopologyTestDriver(b.build(), { processingErrorHandler: ErrorHandlers.deadLetter('dlq') });
    const input = driver.createInputTopic('in', S, S);
    input.pipeInput('k', 'bad');
    input.pipeInput('k', 'good');
    expect(driver.createOutputTopic('out', S, S).readValuesToList()).toEqual(['good']);
    const dead = driver.createOutputTopic('dlq', S, S).readRecord();
    expect(dead.headers[DLQ_HEADERS.errorKind].toString()).toBe('serialization');
    expect(dead.headers[DLQ_HEADERS.errorCode].toString()).toBe('LF_ERR_SERDE_SERIALIZE');
  });

  it('on the runtime, a poison record lands in the DLQ while the rest flows on', async () => {
    const transport = new MemoryTransport();
    const streams = new LogFlowStreams(topology(), {
      applicationId: 'dlq-app',
      transport,
      deserializationErrorHandler: ErrorHandlers.deadLetter('dlq'),
      commitIntervalMs: 10,
    });
    await streams.start();
    try {
      await transport.producer().send([
        { topic: 'in', key: Buffer.from('a'), value: Buffer.from('{"n":1}') },
        { topic: 'in', key: Buffer.from('b'), value: Buffer.from('{oops') },
        { topic: 'in', key: Buffer.from('c'), value: Buffer.from('{"n":2}') },
      ]);
      await waitFor(async () => (await transport.endOffsets('out'))[0].offset === 2);
      await waitFor(async () => (await transport.committedOffsets('dlq-app', 'in'))[0].offset === 3);
      const dead = [];
      for await (const chunk of transport.readPartition('dlq', 0)) dead.push(...chunk);
      expect(dead.map((m) => m.value!.toString())).toEqual(['{oops']);
      expect(streams.state).toBe('RUNNING');
    } finally {
      await streams.close();
    }
  });

  it('on the runtime, fail stops the application without committing the failed record', async () => {
    const transport = new MemoryTransport();
    const errors: string[] = [];
    const streams = new LogFlowStreams(topology(), {
      applicationId: 'fail-app',
      transport,
      deserializationErrorHandler: 'fail',
      commitIntervalMs: 10,
      onError: (e) => errors.push(e.code),
    });
    await streams.start();
    await transport.producer().send([
      { topic: 'in', key: Buffer.from('a'), value: Buffer.from('{"n":1}') },
      { topic: 'in', key: Buffer.from('b'), value: Buffer.from('{oops') },
    ]);
    await waitFor(() => streams.state === 'ERROR');
    await streams.close();
    expect(errors).toEqual(['LF_ERR_SERDE_DESERIALIZE']);
    expect((await transport.committedOffsets('fail-app', 'in'))[0].offset).toBe(1);
  });
});
