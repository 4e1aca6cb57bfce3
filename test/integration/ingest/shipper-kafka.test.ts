import {
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { parseRawLog, type RawLog } from '../../../pipeline/parse/index.ts';
import { Serdes } from '../../../topology/serdes/index.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import {
  createTopic,
  groupId,
  kafkaTransport,
  schemaRegistry,
  startMember,
} from '../topology/kafka-helpers.ts';
import { ackedBytes, exited, spawnShipper } from './shipper-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'shipper-kafka-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const line = (i: number) =>
  `2025-10-23 14:32:15 INFO [order-service] shipped line ${String(i).padStart(7, '0')}\n`;

describe('shipper on Kafka', () => {
  it('delivers every line across rename rotation, kill -9 + restart and copytruncate', async () => {
    const transport = kafkaTransport();
    const topic = await createTopic(transport, 3, { prefix: 'lf-ship-raw' });
    const file = join(dir, 'app.log');
    const checkpoint = join(dir, 'checkpoint.json');
    const N = 12_000;
    let next = 0;
    let fd = openSync(file, 'a');
    const write = (n: number) => {
      let chunk = '';
      for (let i = 0; i < n && next < N; i++) chunk += line(next++);
      writeSync(fd, chunk);
    };

    write(2000);
    let shipper = spawnShipper({ file, topic, checkpoint });
    try {
      await waitFor(() => ackedBytes(checkpoint) > 0, { what: 'first acknowledgement', timeoutMs: 60_000 });
      write(1000);
      // Rename rotation: the writer keeps its old descriptor for a moment, then reopens the path.
      renameSync(file, `${file}.1`);
      write(500);
      closeSync(fd);
      fd = openSync(file, 'a');
      write(2000);
      await waitFor(() => ackedBytes(checkpoint) > 2000 * line(0).length, {
        what: 'progress after rotation',
      });
      // Crash in the middle of a stream of writes.
      write(1500);
      shipper.kill('SIGKILL');
      await exited(shipper);
      write(1500); // written while no shipper runs
      shipper = spawnShipper({ file, topic, checkpoint });
      write(1000);
      await waitFor(() => ackedBytes(checkpoint) > 9000 * line(0).length, {
        what: 'catching up after restart',
        timeoutMs: 60_000,
      });
      // copytruncate: copy, then truncate in place; the writer goes on with the same descriptor.
      write(500);
      copyFileSync(file, `${file}.2`);
      truncateSync(file, 0);
      write(N - next);
      closeSync(fd);

      const registry = schemaRegistry();
      const serde = Serdes.Avro<RawLog>({ registry, schema: 'logs-raw' });
      const member = await startMember(transport, groupId(), [topic]);
      const decoded: RawLog[] = [];
      await waitFor(
        async () => {
          while (decoded.length < member.received.length) {
            decoded.push(await serde.deserialize(topic, member.received[decoded.length].value));
          }
          const numbers = new Set(decoded.map((r) => Number(r.raw_log.slice(-7))));
          return numbers.size === N;
        },
        { what: `all ${N} lines on ${topic}`, timeoutMs: 90_000, intervalMs: 500 },
      );

      // Every line at least once, nothing else.
      const byNumber = new Map<number, RawLog[]>();
      for (const r of decoded) {
        expect(r.raw_log).toMatch(/^2025-10-23 14:32:15 INFO \[order-service\] shipped line \d{7}$/);
        const n = Number(r.raw_log.slice(-7));
        byNumber.set(n, [...(byNumber.get(n) ?? []), r]);
      }
      expect([...byNumber.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
      // Duplicates: one contiguous run (the tail unacknowledged at the kill), same id after parse.
      const dup = [...byNumber.entries()]
        .filter(([, rs]) => rs.length > 1)
        .map(([n]) => n)
        .sort((a, b) => a - b);
      if (dup.length > 0) expect(dup[dup.length - 1] - dup[0] + 1).toBe(dup.length);
      for (const n of dup) {
        const ids = new Set(byNumber.get(n)!.map((r) => parseRawLog(r).id));
        expect(ids.size).toBe(1);
      }
      // Offsets are the lines' byte positions within their file generation, unique per generation.
      const seen = new Map<string, string>();
      for (const r of decoded) {
        expect(r.metadata.offset! % line(0).length).toBe(0);
        const key = `${r.metadata.file_id}@${r.metadata.offset}`;
        expect(seen.get(key) ?? r.raw_log).toBe(r.raw_log);
        seen.set(key, r.raw_log);
        expect(r.metadata).toMatchObject({ file_path: file, service: 'app', truncated: false });
      }
      // Three generations: the renamed file, the file before copytruncate, the file after it.
      expect(new Set(decoded.map((r) => r.metadata.file_id)).size).toBe(3);
      console.log(
        `shipper-kafka: ${decoded.length} records for ${N} lines (${dup.length} re-sent after kill -9)`,
      );
    } finally {
      shipper.kill('SIGTERM');
      await exited(shipper);
      await fetch(`${loadConfig().schemaRegistryUrl}/subjects/${topic}-value`, { method: 'DELETE' }).catch(
        () => {},
      );
    }
  });
});
