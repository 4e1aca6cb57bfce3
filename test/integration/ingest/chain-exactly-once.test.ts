/**
 * Issue 4, end to end on the real services: files → `logflow ship` (a child process) → Kafka
 * logs-raw (Avro) → parse → logs-parsed → Elasticsearch sink → Elasticsearch.
 *
 *  - Every line arrives exactly once across a rename rotation, a kill -9 + restart of the shipper
 *    and a copytruncate, with the deterministic ids; garbage lines (random bytes, a 1.5 MB line,
 *    invalid UTF-8, broken JSON, NUL bytes) become documents of their own and never stop it.
 *  - Elasticsearch unreachable for 30 s (a TCP proxy cut; the shared Elasticsearch keeps running)
 *    loses nothing and duplicates nothing.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, openSync, renameSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logIdOf, type RawLog } from '../../../pipeline/parse/index.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { elasticsearchProxy, exited, startChain } from './chain-helpers.ts';

/** Lines carrying a unique marker `mk-<tag>-<n>`; writes go through one descriptor like a logger's. */
function logWriter(file: string, tag: string) {
  let fd = openSync(file, 'a');
  let next = 0;
  const write = (data: string | Buffer) => writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
  return {
    get next() {
      return next;
    },
    lines(n: number) {
      let chunk = '';
      for (let i = 0; i < n; i++) {
        chunk += `${new Date().toISOString()} INFO [chain] order mk-${tag}-${String(next++).padStart(7, '0')} served\n`;
      }
      write(chunk);
    },
    raw: write,
    reopen() {
      closeSync(fd);
      fd = openSync(file, 'a');
    },
    close: () => closeSync(fd),
  };
}

const markerOf = (text: string, tag: string): number | undefined => {
  const m = new RegExp(`mk-${tag}-(\\d{7}) served`).exec(text);
  return m ? Number(m[1]) : undefined;
};

const sizes = (...paths: string[]) => paths.reduce((s, p) => s + statSync(p).size, 0);

/** Random bytes on one line that does not look like a continuation (so it stays one record). */
function randomLine(bytes: number): Buffer {
  const b = randomBytes(bytes);
  for (let i = 0; i < b.length; i++) if (b[i] === 0x0a) b[i] = 0x21;
  b[0] = 0x58; // 'X'
  b[b.length - 1] = 0x0a;
  return b;
}

describe('ingest chain: file → shipper → Kafka → parse → Elasticsearch', () => {
  it('every line exactly once with its deterministic id across rotation, kill -9 and copytruncate; garbage never stops it', async () => {
    const chain = await startChain();
    const tag = randomBytes(3).toString('hex');
    const file = join(chain.dir, 'app.log');
    const w = logWriter(file, tag);
    const GARBAGE = 6;

    w.lines(1500);
    w.raw(randomLine(3000));
    w.raw(Buffer.concat([Buffer.from('Y'), Buffer.alloc(1_500_000, 0x41), Buffer.from('\n')]));
    let shipper = chain.startShipper(file);
    try {
      await waitFor(() => chain.ackedBytes() > 0, { what: 'first acknowledgement', timeoutMs: 30_000 });
      w.lines(1000);
      w.raw(Buffer.from([0x5a, 0x20, 0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x0a])); // invalid UTF-8
      // Rename rotation: the writer keeps its descriptor a moment, then reopens the path.
      renameSync(file, `${file}.1`);
      w.lines(300);
      w.reopen();
      w.lines(1000);
      w.raw('{"level":"ERROR","message":"unterminated\n');
      await waitFor(() => chain.ackedBytes() > statSync(`${file}.1`).size, {
        what: 'progress after rotation',
      });
      // Crash in the middle of a stream: after the first batches of a large write are
      // acknowledged and before the rest are (so a tail is read or in flight but not checkpointed).
      const beforeKill = sizes(file, `${file}.1`);
      w.lines(20_000);
      const written = sizes(file, `${file}.1`);
      await waitFor(() => chain.ackedBytes() > beforeKill, { what: 'mid-stream', intervalMs: 2 });
      shipper.kill('SIGKILL');
      const ackedAtKill = chain.ackedBytes();
      await exited(shipper);
      w.lines(500);
      w.raw('{"timestamp":"not a time","level":42,"message":{"nested":true}}\n');
      shipper = chain.startShipper(file);
      w.lines(500);
      const beforeCopy = sizes(file, `${file}.1`);
      await waitFor(() => chain.ackedBytes() >= beforeCopy, {
        what: 'caught up after restart',
        timeoutMs: 30_000,
      });
      // copytruncate mid-stream; the writer goes on with the same descriptor (O_APPEND).
      w.lines(500);
      copyFileSync(file, `${file}.2`);
      truncateSync(file, 0);
      w.lines(1000);
      w.raw('\u0000\u0000\u0000\n');
      w.lines(200);
      w.close();
      const N = w.next;
      const total = sizes(file, `${file}.1`, `${file}.2`);

      await waitFor(() => chain.ackedBytes() === total, {
        what: 'every byte acknowledged',
        timeoutMs: 30_000,
      });
      await waitFor(async () => (await chain.count()) >= N + GARBAGE, {
        what: `${N + GARBAGE} documents`,
        timeoutMs: 30_000,
        intervalMs: 500,
      });
      shipper.kill('SIGTERM');
      await exited(shipper);
      await waitFor(() => chain.settled(), { what: 'parse and sink caught up', timeoutMs: 30_000 });

      // The ids parse gives the shipped records: one per line, however often it was sent.
      const raw = await chain.rawRecords();
      const idOfMarker = new Map<number, Set<string>>();
      const garbageIds = new Set<string>();
      let resent = 0;
      for (const r of raw) {
        const n = markerOf(r.raw_log, tag);
        if (n === undefined) {
          garbageIds.add(logIdOf(r));
          continue;
        }
        const ids = idOfMarker.get(n) ?? new Set<string>();
        if (ids.size > 0) resent++;
        ids.add(logIdOf(r));
        idOfMarker.set(n, ids);
      }
      expect(idOfMarker.size).toBe(N);
      for (const [n, ids] of idOfMarker) expect(ids.size, `line ${n} shipped under ${ids.size} ids`).toBe(1);
      expect(garbageIds.size).toBe(GARBAGE);
      const huge = raw.find((r: RawLog) => r.raw_log.startsWith('YAAA'));
      expect(huge?.metadata.truncated).toBe(true);

      // Elasticsearch: every line once, under that id; the garbage documents; nothing else.
      const docs = await chain.documents();
      expect(docs.length).toBe(N + GARBAGE);
      const seen = new Map<number, string>();
      const others: string[] = [];
      for (const d of docs) {
        const n = markerOf(d.message, tag);
        if (n === undefined) {
          others.push(d.id);
          continue;
        }
        expect(seen.has(n), `line ${n} indexed twice`).toBe(false);
        seen.set(n, d.id);
        expect(d.id).toBe([...idOfMarker.get(n)!][0]);
      }
      expect(seen.size).toBe(N);
      expect(others.sort()).toEqual([...garbageIds].sort());
      expect(chain.sink.getStats().deadLettered).toBe(0);
      console.log(`chain: killed with ${written - ackedAtKill} bytes unacknowledged`);
      console.log(`chain: ${N} lines + ${GARBAGE} garbage, ${raw.length} raw records (${resent} re-sent)`);
    } catch (err) {
      console.log(`shipper stderr:\n${chain.shipperLog()}`);
      console.log(`checkpoint: ${chain.checkpointText()}`);
      throw err;
    } finally {
      shipper.kill('SIGKILL');
      await exited(shipper);
    }
  });

  it('loses and duplicates nothing while Elasticsearch is unreachable for 30 s', async () => {
    const proxy = await elasticsearchProxy();
    const chain = await startChain({ elasticsearchUrl: proxy.url });
    const tag = randomBytes(3).toString('hex');
    const file = join(chain.dir, 'app.log');
    const w = logWriter(file, tag);
    const shipper = chain.startShipper(file);
    try {
      w.lines(1000);
      await waitFor(async () => (await chain.count()) === 1000, {
        what: 'first 1000 indexed',
        timeoutMs: 30_000,
      });

      await proxy.cut();
      const cutAt = Date.now();
      // Lines keep coming during the outage; they reach logs-parsed but not Elasticsearch.
      for (let burst = 0; burst < 5; burst++) {
        w.lines(600);
        await waitFor(() => chain.ackedBytes() === sizes(file), { what: `burst ${burst} shipped` });
      }
      await waitFor(() => chain.sink.getStats().targetUp === false, { what: 'sink sees the outage' });
      await waitFor(() => Date.now() - cutAt >= 30_000, {
        what: '30 s of outage',
        timeoutMs: 40_000,
        intervalMs: 500,
      });
      expect(await chain.count()).toBe(1000);
      expect(chain.sink.getStats().targetUp).toBe(false);

      await proxy.restore();
      w.lines(400);
      w.close();
      const N = w.next;
      await waitFor(async () => (await chain.count()) >= N, {
        what: `all ${N} indexed`,
        timeoutMs: 60_000,
        intervalMs: 500,
      });
      await waitFor(() => chain.settled(), { what: 'parse and sink caught up', timeoutMs: 30_000 });
      const docs = await chain.documents();
      const markers = docs.map((d) => markerOf(d.message, tag)).sort((a, b) => a! - b!);
      expect(markers).toEqual(Array.from({ length: N }, (_, i) => i));
      expect(chain.sink.getStats()).toMatchObject({ targetUp: true, deadLettered: 0 });
    } finally {
      shipper.kill('SIGKILL');
      await exited(shipper);
    }
  });
});
