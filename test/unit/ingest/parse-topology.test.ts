import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { LogFlowError } from '../../../common/errors.ts';
import { generateLogLines } from '../../../pipeline/generator/index.ts';
import { buildParseTopology, parseStreamsConfig, type RawLog } from '../../../pipeline/parse/index.ts';
import type { ParsedLog } from '../../../storage/logs/types.ts';
import { type Serde, Serdes } from '../../../topology/index.ts';
import { loadSchema } from '../../../topology/serdes/schema-files.ts';
import { TopologyTestDriver } from '../../../topology/test-driver/topology-test-driver.ts';

/**
 * Plain Avro binary with the repository's schemas (no registry: the test driver needs
 * synchronous serdes). It checks that the TypeScript shapes really fit schemas/*.avsc.
 */
function avroSerde<T>(schema: string): Serde<T> {
  const type = avro.Type.forSchema(loadSchema(schema) as avro.Schema);
  return {
    name: `avro-plain(${schema})`,
    serialize: (_topic, value) => type.toBuffer(value),
    deserialize: (topic, data) => {
      try {
        return type.fromBuffer(data as Buffer) as T;
      } catch (err) {
        throw new LogFlowError('LF_ERR_SERDE_DESERIALIZE', `bad Avro on ${topic}`, { cause: err });
      }
    },
  };
}

const config = loadConfig({});
const rawSerde = avroSerde<RawLog>('logs-raw');
const parsedSerde = avroSerde<ParsedLog>('logs-parsed');
const bytes = Serdes.Bytes() as Serde<Buffer | null>;

function driver() {
  const topology = buildParseTopology(config, { raw: rawSerde, parsed: parsedSerde }, { clock: () => 42 });
  const d = new TopologyTestDriver(topology, parseStreamsConfig(config));
  return {
    d,
    input: d.createInputTopic(config.topics.raw, bytes, rawSerde),
    rawInput: d.createInputTopic(config.topics.raw, bytes, bytes),
    output: d.createOutputTopic(config.topics.parsed, bytes, parsedSerde),
    dlq: d.createOutputTopic(config.topics.deadLetter, bytes, bytes),
  };
}

const meta = (offset: number) => ({
  source: 'host',
  file_path: '/logs/app.log',
  shipper_timestamp: Date.UTC(2026, 0, 1),
  service: 'app',
  file_id: 'f-1',
  offset,
  truncated: false,
});

describe('parse topology', () => {
  it('describes logs-raw → parse → logs-parsed', () => {
    const topology = buildParseTopology(config, { raw: rawSerde, parsed: parsedSerde });
    const text = String(topology.describe());
    expect(text).toContain('logs-raw');
    expect(text).toContain('logs-parsed');
  });

  it('parses every generated line, keeps the key, and writes Avro ParsedLogs', () => {
    const { d, input, output, dlq } = driver();
    const key = Buffer.from('/logs/app.log');
    const lines = generateLogLines(200, { seed: 4, startTime: Date.UTC(2025, 9, 23) });
    let offset = 0;
    for (const line of lines) {
      input.pipeInput(key, { raw_log: line.trimEnd(), metadata: meta(offset) });
      offset += Buffer.byteLength(line);
    }
    const out = output.readRecordsToList();
    expect(out).toHaveLength(200);
    expect(out.every((r) => r.key?.equals(key))).toBe(true);
    expect(out.every((r) => r.value.level !== 'UNKNOWN' && r.value.ingested_at === 42)).toBe(true);
    expect(new Set(out.map((r) => r.value.id)).size).toBe(200);
    expect(dlq.readRecordsToList()).toHaveLength(0);
    d.close();
  });

  it('keeps garbage as UNKNOWN and sends undecodable bytes to the dead-letter topic', () => {
    const { d, input, rawInput, output, dlq } = driver();
    input.pipeInput(null, { raw_log: '\ufffd\u0000 random junk {"broken": ', metadata: meta(0) });
    rawInput.pipeInput(Buffer.from('k'), Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01]));
    input.pipeInput(null, {
      raw_log: '2025-10-23 14:32:15 WARNING [auth-service] late',
      metadata: meta(100),
    });
    const out = output.readValuesToList();
    expect(out.map((v) => v.level)).toEqual(['UNKNOWN', 'WARN']);
    expect(out[0].message).toBe('\ufffd\u0000 random junk {"broken": ');
    const dead = dlq.readRecordsToList();
    expect(dead).toHaveLength(1);
    expect(dead[0].value).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01]));
    expect(dead[0].headers['logflow.error.kind']?.toString()).toBe('deserialization');
    d.close();
  });

  it('re-delivered records get the same id', () => {
    const { d, input, output } = driver();
    const raw = { raw_log: '2025-10-23 14:32:15 INFO [x] same', metadata: meta(7) };
    input.pipeInput(null, raw);
    input.pipeInput(null, { ...raw, metadata: { ...raw.metadata, shipper_timestamp: Date.UTC(2026, 0, 2) } });
    const [a, b] = output.readValuesToList();
    expect(a.id).toBe(b.id);
    d.close();
  });

  it('reads logs-raw written with the first schema version (no file_id/offset/truncated)', () => {
    const v1 = avro.Type.forSchema({
      type: 'record',
      name: 'RawLog',
      namespace: 'io.logflow',
      fields: [
        { name: 'raw_log', type: 'string' },
        {
          name: 'metadata',
          type: {
            type: 'record',
            name: 'RawLogMetadata',
            fields: [
              { name: 'source', type: 'string' },
              { name: 'file_path', type: 'string' },
              { name: 'shipper_timestamp', type: 'long' },
              { name: 'service', type: 'string' },
            ],
          },
        },
      ],
    });
    const current = avro.Type.forSchema(loadSchema('logs-raw') as avro.Schema);
    const resolver = current.createResolver(v1);
    const old = v1.toBuffer({
      raw_log: 'x',
      metadata: { source: 's', file_path: 'p', shipper_timestamp: 1, service: 'a' },
    });
    expect(current.fromBuffer(old, resolver)).toMatchObject({
      metadata: { file_id: null, offset: null, truncated: false },
    });
  });
});
