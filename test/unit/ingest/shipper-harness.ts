/**
 * Test harness for the file source: a real MemoryTransport topic behind a Producer that can be
 * switched to reject sends (a broker outage, not a mock of any client), temp dirs that clean
 * themselves up, and readers for what reached the topic.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createShipper, type Shipper, type ShipperOptions } from '../../../connectors/file/index.ts';
import type { RawLog } from '../../../pipeline/parse/raw-log.ts';
import { JsonSerde } from '../../../topology/serdes/json-serde.ts';
import { MemoryTransport } from '../../../topology/transport/memory-transport.ts';
import type {
  OutgoingMessage,
  Producer,
  RecordAck,
  Transaction,
} from '../../../topology/transport/transport.ts';

/** Forwards to a real producer unless `failing`, in which case every send rejects like a dead broker. */
export class SwitchableProducer implements Producer {
  failing = false;
  sends = 0;
  rejected = 0;
  constructor(private readonly inner: Producer) {}
  connect(): Promise<void> {
    return this.inner.connect();
  }
  async send(messages: OutgoingMessage[]): Promise<RecordAck[]> {
    this.sends++;
    if (this.failing) {
      this.rejected++;
      throw new Error('broker unavailable (test)');
    }
    return this.inner.send(messages);
  }
  transaction(): Promise<Transaction> {
    return this.inner.transaction();
  }
  disconnect(): Promise<void> {
    return this.inner.disconnect();
  }
}

export interface Harness {
  dir: string;
  transport: MemoryTransport;
  producer: SwitchableProducer;
  topic: string;
  checkpointPath: string;
  shipper(options: Partial<ShipperOptions> & { paths: string[] }): Shipper;
  records(): Promise<RawLog[]>;
  cleanup(): Promise<void>;
}

export const serde = new JsonSerde<RawLog>();

export async function createHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'shipper-'));
  const transport = new MemoryTransport();
  const topic = 'logs-raw';
  await transport.ensureTopics([{ name: topic, partitions: 3 }]);
  const producer = new SwitchableProducer(transport.producer());
  await producer.connect();
  const shippers: Shipper[] = [];
  const checkpointPath = join(dir, 'state', 'checkpoint.json');
  return {
    dir,
    transport,
    producer,
    topic,
    checkpointPath,
    shipper(options) {
      const s = createShipper({
        producer,
        serde,
        topic,
        checkpointPath,
        pollIntervalMs: 10,
        globIntervalMs: 30,
        multilineTimeoutMs: 50,
        rotatedCloseMs: 150,
        retry: { initialMs: 5, maxMs: 20 },
        drainTimeoutMs: 2000,
        hostname: 'test-host',
        ...options,
      });
      shippers.push(s);
      return s;
    },
    async records() {
      const out: RawLog[] = [];
      for (let p = 0; p < 3; p++) {
        for await (const batch of transport.readPartition(topic, p)) {
          for (const m of batch) out.push(serde.deserialize(topic, m.value));
        }
      }
      return out;
    },
    async cleanup() {
      producer.failing = false;
      for (const s of shippers) await s.stop();
      await transport.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `n` distinct seed-format lines, numbered from `from`. */
export function lines(from: number, n: number, tag = 'line'): string {
  let s = '';
  for (let i = from; i < from + n; i++) {
    s += `2025-10-23 14:32:15 INFO [order-service] ${tag} ${String(i).padStart(6, '0')}\n`;
  }
  return s;
}

/** The numbers carried by records made with `lines()` (multi-set, so duplicates show). */
export function numbersOf(records: RawLog[], tag = 'line'): number[] {
  const re = new RegExp(`${tag} (\\d{6})$`);
  return records
    .map((r) => re.exec(r.raw_log.split('\n')[0])?.[1])
    .filter((x): x is string => x !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

export const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
