import {
  appendFileSync,
  closeSync,
  copyFileSync,
  openSync,
  renameSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  formatShipperStatus,
  readCheckpoint,
  readShipperStatus,
  serviceFromPath,
} from '../../../connectors/file/index.ts';
import { startGenerator } from '../../../pipeline/generator/index.ts';
import { parseRawLog } from '../../../pipeline/parse/index.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { createHarness, type Harness, lines, numbersOf, range } from './shipper-harness.ts';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const countIs = (n: number) => async () => (await h.records()).length === n;

describe('file source: tailing', () => {
  it('ships existing and appended lines with the seed metadata, byte offsets and file identity', async () => {
    const file = join(h.dir, 'payment-service.log');
    writeFileSync(file, lines(0, 3));
    const registry = new Registry();
    const s = h.shipper({ paths: [file], metricsRegistry: registry });
    await s.start();
    await waitFor(countIs(3), { what: '3 records' });
    appendFileSync(file, lines(3, 2));
    await waitFor(countIs(5), { what: '5 records' });
    const recs = await h.records();
    expect(numbersOf(recs)).toEqual(range(0, 5));
    const lineLength = Buffer.byteLength(lines(0, 1));
    for (const r of recs) {
      expect(r.metadata).toMatchObject({
        source: 'test-host',
        file_path: file,
        service: 'payment-service',
        truncated: false,
      });
      const n = Number(r.raw_log.slice(-6));
      expect(r.metadata.offset).toBe(n * lineLength);
      expect(r.metadata.shipper_timestamp).toBeGreaterThan(0);
    }
    expect(new Set(recs.map((r) => r.metadata.file_id)).size).toBe(1);
    await waitFor(
      async () => (await registry.metrics()).includes('logflow_stage_records_out_total{stage="shipper"} 5'),
      {
        what: 'acked metric',
      },
    );
    const text = await registry.metrics();
    expect(text).toContain('logflow_stage_records_in_total{stage="shipper"} 5');
    expect(text).toContain('logflow_shipper_files_open 1');
    expect(text).toContain('logflow_shipper_bytes_behind 0');
  });

  it('joins stack-trace lines into one record and flushes the last one after an idle pause', async () => {
    const file = join(h.dir, 'app.log');
    writeFileSync(
      file,
      '2025-10-23 14:32:15 ERROR [x] boom\n    at a (a.ts:1)\n\tat b\nCaused by: Error: y\n    ... 4 more\n' +
        '2025-10-23 14:32:16 INFO [x] next\n2025-10-23 14:32:17 ERROR [x] last\nat c (c.ts:2)\n...\n',
    );
    const s = h.shipper({ paths: [file] });
    await s.start();
    await waitFor(countIs(3), { what: '3 joined records' });
    const texts = (await h.records()).map((r) => r.raw_log).sort();
    expect(texts).toEqual([
      '2025-10-23 14:32:15 ERROR [x] boom\n    at a (a.ts:1)\n\tat b\nCaused by: Error: y\n    ... 4 more',
      '2025-10-23 14:32:16 INFO [x] next',
      '2025-10-23 14:32:17 ERROR [x] last\nat c (c.ts:2)\n...',
    ]);
    expect(serviceFromPath('/var/log/app.log.1')).toBe('app');
  });

  it('does not split a stack trace whose continuation is still unread when the idle timeout passes', async () => {
    // The error line ends exactly at the first read chunk (256 KiB); the outage fills the buffer so
    // reading stops there, with the continuation unread, for far longer than the idle timeout.
    const file = join(h.dir, 'trace.log');
    const header = '2025-10-23 14:32:15 ERROR [order-service] payment failed\n';
    let filler = '';
    while (256 * 1024 - header.length - filler.length > 200) filler += `${'f'.repeat(99)}\n`;
    filler += `${'g'.repeat(256 * 1024 - header.length - filler.length - 1)}\n`;
    const trace = '    at pay (pay.ts:1)\n    at run (run.ts:2)\nCaused by: timeout\n';
    writeFileSync(file, filler + header + trace + lines(0, 1));
    h.producer.failing = true;
    const s = h.shipper({ paths: [file], maxBufferedRecords: 10 });
    await s.start();
    await waitFor(() => h.producer.rejected >= 15, { what: 'an outage longer than the idle timeout' });
    h.producer.failing = false;
    await waitFor(async () => numbersOf(await h.records()).length === 1, { what: 'the last line' });
    const recs = await h.records();
    const error = recs.find((r) => r.raw_log.includes('payment failed'))!;
    expect(error.raw_log).toBe(`${header}${trace}`.trimEnd());
    expect(recs.filter((r) => /^(\s|Caused)/.test(r.raw_log))).toEqual([]);
  });

  it('picks up files that appear later under a glob', async () => {
    const s = h.shipper({ paths: [join(h.dir, '*.log')] });
    await s.start();
    writeFileSync(join(h.dir, 'late-a.log'), lines(0, 2));
    writeFileSync(join(h.dir, 'ignored.txt'), lines(100, 2));
    await waitFor(countIs(2), { what: 'late file' });
    writeFileSync(join(h.dir, 'late-b.log'), lines(2, 2));
    await waitFor(countIs(4), { what: 'second late file' });
    const recs = await h.records();
    expect(numbersOf(recs)).toEqual(range(0, 4));
    expect(new Set(recs.map((r) => r.metadata.service))).toEqual(new Set(['late-a', 'late-b']));
  });

  it('cuts records longer than the maximum (flagged) and replaces invalid UTF-8, never stopping', async () => {
    const file = join(h.dir, 'junk.log');
    const fd = openSync(file, 'w');
    writeSync(fd, Buffer.from(`${'x'.repeat(300_000)}\n`));
    writeSync(fd, Buffer.from([0x61, 0xff, 0xfe, 0xc3, 0x28, 0x0a]));
    writeSync(fd, Buffer.from(lines(0, 1)));
    closeSync(fd);
    const s = h.shipper({ paths: [file], maxRecordBytes: 100_000, maxBufferedBytes: 1_000_000 });
    await s.start();
    await waitFor(countIs(3), { what: 'three records' });
    const recs = await h.records();
    const big = recs.find((r) => r.raw_log.startsWith('xxx'))!;
    expect(big.raw_log.length).toBe(100_000);
    expect(big.metadata.truncated).toBe(true);
    expect(recs.find((r) => r.raw_log.startsWith('a'))!.raw_log).toContain('\ufffd');
    const last = recs.find((r) => r.raw_log.endsWith('000000'))!;
    expect(last.metadata.offset).toBe(300_001 + 6);
    expect(parseRawLog(big).extra_fields.truncated).toBe('true');
  });

  it('keeps a line of invalid bytes under the maximum once decoded (U+FFFD is 3 bytes)', async () => {
    const file = join(h.dir, 'binary.log');
    writeFileSync(
      file,
      Buffer.concat([Buffer.alloc(90_000, 0xff), Buffer.from('\n'), Buffer.from(lines(0, 1))]),
    );
    const s = h.shipper({ paths: [file], maxRecordBytes: 100_000, maxBufferedBytes: 1_000_000 });
    await s.start();
    await waitFor(countIs(2), { what: 'two records' });
    const bad = (await h.records()).find((r) => r.raw_log.startsWith('\ufffd'))!;
    expect(Buffer.byteLength(bad.raw_log)).toBeLessThanOrEqual(100_000);
    expect(Buffer.byteLength(bad.raw_log)).toBeGreaterThan(99_990);
    expect(bad.raw_log.endsWith('\ufffd')).toBe(true);
    expect(bad.metadata.truncated).toBe(true);
  });
});

describe('file source: rotation and truncation', () => {
  it('rename rotation: reads the renamed file to its end, then follows the new one', async () => {
    const file = join(h.dir, 'app.log');
    writeFileSync(file, lines(0, 10));
    const s = h.shipper({ paths: [file] });
    await s.start();
    await waitFor(countIs(10), { what: 'first 10' });
    // The writer still holds the old file open while it is renamed and writes a few more lines.
    const oldFd = openSync(file, 'a');
    renameSync(file, `${file}.1`);
    writeSync(oldFd, lines(10, 5));
    closeSync(oldFd);
    writeFileSync(file, lines(15, 5));
    await waitFor(countIs(20), { what: 'all 20' });
    await waitFor(() => s.stats().filesOpen === 1, { what: 'rotated file closed' });
    const recs = await h.records();
    expect(numbersOf(recs)).toEqual(range(0, 20));
    // Both generations keep the followed path (the Kafka key), with different identities.
    expect(new Set(recs.map((r) => r.metadata.file_path))).toEqual(new Set([file]));
    expect(new Set(recs.map((r) => r.metadata.file_id)).size).toBe(2);
    const cp = readCheckpoint(h.checkpointPath);
    const states = Object.values(cp.files)
      .map((e) => e.state)
      .sort();
    await waitFor(() => Object.values(s.checkpoint().files).some((e) => e.state === 'done'), {
      what: 'done',
    });
    expect(states.length).toBe(2);
  });

  it('truncation: restarts at 0 with a new file identity', async () => {
    const file = join(h.dir, 'app.log');
    writeFileSync(file, lines(0, 20));
    const s = h.shipper({ paths: [file] });
    await s.start();
    await waitFor(countIs(20), { what: 'first 20' });
    truncateSync(file, 0);
    await waitFor(() => s.stats().truncations === 1, { what: 'truncation seen' });
    appendFileSync(file, lines(20, 3));
    await waitFor(countIs(23), { what: '23 records' });
    const recs = await h.records();
    expect(numbersOf(recs)).toEqual(range(0, 23));
    const after = recs.filter((r) => Number(r.raw_log.slice(-6)) >= 20);
    expect(after.map((r) => r.metadata.offset).sort((a, b) => a! - b!)[0]).toBe(0);
    expect(after[0].metadata.file_id).not.toBe(recs[0].metadata.file_id);
  });

  it('a rewrite that grows past our position is still seen as new content (fingerprint)', async () => {
    const file = join(h.dir, 'app.log');
    writeFileSync(file, lines(0, 5, 'old'));
    const s = h.shipper({ paths: [file] });
    await s.start();
    await waitFor(countIs(5), { what: '5 records' });
    // Replace the file's content in place with something longer (same inode).
    writeFileSync(file, lines(0, 8, 'new'));
    await waitFor(async () => numbersOf(await h.records(), 'new').length === 8, { what: '8 new' });
    expect(numbersOf(await h.records(), 'new')).toEqual(range(0, 8));
  });

  it('copytruncate: lines written just before the truncation are read from the copy, once', async () => {
    const file = join(h.dir, 'app.log');
    writeFileSync(file, lines(0, 5000)); // more than one read chunk
    // Outage plus a tiny buffer: the shipper reads one chunk, then has to stop reading.
    h.producer.failing = true;
    const s = h.shipper({
      paths: [file],
      maxBufferedRecords: 5,
      maxBufferedBytes: 64 * 1024,
      maxRecordBytes: 4096,
    });
    await s.start();
    await waitFor(() => h.producer.rejected > 0, { what: 'first failing send' });
    expect(s.stats().recordsRead).toBeLessThan(5000);
    copyFileSync(file, `${file}.1`);
    truncateSync(file, 0);
    appendFileSync(file, lines(5000, 10));
    h.producer.failing = false;
    await waitFor(countIs(5010), { what: '5010 records', timeoutMs: 15_000 });
    await waitFor(() => s.stats().bufferedRecords === 0 && s.stats().filesOpen === 1, { what: 'settled' });
    expect(numbersOf(await h.records())).toEqual(range(0, 5010));
    expect(s.stats().truncations).toBe(1);
  });

  it('a copy of a followed file matched by the glob is not shipped twice', async () => {
    const file = join(h.dir, 'app.log');
    writeFileSync(file, lines(0, 10));
    const s = h.shipper({ paths: [join(h.dir, 'app.log*')] });
    await s.start();
    await waitFor(countIs(10), { what: '10 records' });
    copyFileSync(file, `${file}.bak`);
    appendFileSync(file, lines(10, 1));
    await waitFor(countIs(11), { what: '11 records' });
    await waitFor(() => s.stats().bufferedRecords === 0, { what: 'idle' });
    expect(numbersOf(await h.records())).toEqual(range(0, 11));
  });
});

describe('file source: delivery guarantees', () => {
  it('moves the checkpoint only after the producer acknowledged, and retries through an outage', async () => {
    const file = join(h.dir, 'app.log');
    writeFileSync(file, lines(0, 100));
    h.producer.failing = true;
    const s = h.shipper({ paths: [file] });
    await s.start();
    await waitFor(() => h.producer.rejected >= 3, { what: 'several failed sends' });
    expect(s.stats().recordsRead).toBe(100);
    for (const e of Object.values(readCheckpoint(h.checkpointPath).files)) expect(e.offset).toBe(0);
    expect((await readShipperStatus(h.checkpointPath))[0]).toMatchObject({
      offset: 0,
      behind: statSync(file).size,
    });
    h.producer.failing = false;
    await waitFor(countIs(100), { what: '100 records after the outage' });
    await waitFor(
      () => Object.values(readCheckpoint(h.checkpointPath).files)[0]?.offset === statSync(file).size,
      {
        what: 'checkpoint at the end of the file',
      },
    );
    const status = await readShipperStatus(h.checkpointPath);
    expect(status[0]).toMatchObject({ path: file, state: 'active', behind: 0 });
    expect(status[0].lastAckAt).not.toBeNull();
    expect(formatShipperStatus(status)).toContain(file);
    expect(s.stats().sendFailures).toBeGreaterThan(0);
  });

  it('applies backpressure: stops reading while the buffer is full', async () => {
    const file = join(h.dir, 'app.log');
    writeFileSync(file, lines(0, 20_000));
    h.producer.failing = true;
    const s = h.shipper({ paths: [file], maxBufferedRecords: 100, maxBufferedBytes: 2 * 1024 * 1024 });
    await s.start();
    await waitFor(() => h.producer.rejected >= 5, { what: 'stalled' });
    // At most one read chunk (256 KiB ≈ 3,800 lines) past the limit, never the whole file.
    expect(s.stats().recordsRead).toBeLessThan(5000);
    h.producer.failing = false;
    await waitFor(countIs(20_000), { what: 'everything after recovery' });
  });

  it('a clean restart continues where it stopped, without loss or duplicates', async () => {
    const file = join(h.dir, 'app.log');
    writeFileSync(file, lines(0, 30));
    const a = h.shipper({ paths: [file] });
    await a.start();
    await waitFor(countIs(30), { what: '30' });
    await a.stop();
    appendFileSync(file, lines(30, 20)); // written while no shipper runs
    const b = h.shipper({ paths: [file] });
    await b.start();
    await waitFor(countIs(50), { what: '50' });
    expect(numbersOf(await h.records())).toEqual(range(0, 50));
  });

  it('after stopping with unacknowledged records, a restart re-sends exactly that tail with the same ids', async () => {
    const file = join(h.dir, 'app.log');
    writeFileSync(file, lines(0, 40));
    const a = h.shipper({ paths: [file], drainTimeoutMs: 50 });
    await a.start();
    await waitFor(countIs(40), { what: '40' });
    h.producer.failing = true;
    appendFileSync(file, lines(40, 10));
    await waitFor(() => a.stats().recordsRead === 50 && h.producer.rejected > 0, { what: 'tail stuck' });
    await a.stop(); // gives up on the tail: the checkpoint stays before it
    h.producer.failing = false;
    const b = h.shipper({ paths: [file] });
    await b.start();
    await waitFor(countIs(50), { what: '50' });
    const recs = await h.records();
    expect(numbersOf(recs)).toEqual(range(0, 50));
    expect(new Set(recs.map((r) => r.metadata.file_id)).size).toBe(1);
  });

  it('restart after rotations that happened while stopped: the renamed tail and unseen generations are read', async () => {
    const file = join(h.dir, 'app.log');
    writeFileSync(file, lines(0, 10));
    const a = h.shipper({ paths: [file] });
    await a.start();
    await waitFor(countIs(10), { what: '10' });
    await a.stop();
    appendFileSync(file, lines(10, 5)); // not yet shipped…
    renameSync(file, `${file}.1`); // …and rotated away while the shipper is down,
    writeFileSync(file, lines(15, 5)); // and so is the next generation, never seen at all
    renameSync(`${file}.1`, `${file}.2`);
    renameSync(file, `${file}.1`);
    writeFileSync(file, lines(20, 5));
    const b = h.shipper({ paths: [file] });
    await b.start();
    await waitFor(countIs(25), { what: '25' });
    await waitFor(() => b.stats().filesOpen === 1, { what: 'rotated files closed' });
    expect(numbersOf(await h.records())).toEqual(range(0, 25));
  });

  it('a generation rotated away before a late-noticed truncation is found after a restart (chaos seed 59)', async () => {
    const file = join(h.dir, 'app.log');
    writeFileSync(file, lines(0, 10));
    // No glob re-expansion while running: only the truncation (seen by the read loop) is noticed.
    const a = h.shipper({ paths: [file], globIntervalMs: 3_600_000 });
    await a.start();
    await waitFor(countIs(10), { what: 'first 10' });
    // In one go, before the shipper looks again: copytruncate, new lines, rename rotation, and the
    // next generation G written at the path.
    copyFileSync(file, `${file}.c0`);
    truncateSync(file, 0);
    appendFileSync(file, lines(10, 5));
    renameSync(file, `${file}.r1`);
    writeFileSync(file, lines(15, 5));
    const gWrittenAt = statSync(file).mtimeMs;
    // Noticing takes a while in production; here it is at least a later millisecond than G's write.
    while (Date.now() <= gWrittenAt + 1) {}
    await waitFor(() => a.stats().truncations === 1, { what: 'truncation noticed' });
    await waitFor(countIs(15), { what: 'the truncated generation shipped' });
    // G is rotated away too, before any scan saw it; the shipper stops.
    renameSync(file, `${file}.r2`);
    writeFileSync(file, lines(20, 5));
    await a.stop();
    // The generation after the truncation began before the truncation was noticed: the restart
    // looks for unseen generations from then, not from when it was noticed.
    const entry = Object.values(readCheckpoint(h.checkpointPath).files).find((e) => e.state === 'active');
    expect(entry?.startedAfter).toBeLessThan(gWrittenAt);
    const b = h.shipper({ paths: [file] });
    await b.start();
    await waitFor(countIs(25), { what: 'all 25 (G included)', timeoutMs: 10_000 });
    expect(numbersOf(await h.records())).toEqual(range(0, 25));
  });

  it('a generation rotated away unseen is found although its file time lags our clock (coarse mtime)', async () => {
    const file = join(h.dir, 'app.log');
    writeFileSync(file, lines(0, 10));
    const s = h.shipper({ paths: [file] });
    await s.start();
    await waitFor(countIs(10), { what: 'first 10' });
    const first = Object.values(s.checkpoint().files)[0];
    // Between two scans: A is renamed away, B written and renamed away too, C written. Linux
    // stamps file times from a coarse clock (a tick behind), so B, written just after A was
    // found, can carry an earlier time than that; whole-second filesystems lag more.
    renameSync(file, `${file}.1`);
    writeFileSync(file, lines(10, 5));
    const lagged = new Date(first.discoveredAt - 900);
    utimesSync(file, lagged, lagged);
    renameSync(file, `${file}.2`);
    writeFileSync(file, lines(15, 5));
    await waitFor(countIs(20), { what: 'all 20 (B included)', timeoutMs: 10_000 });
    expect(numbersOf(await h.records())).toEqual(range(0, 20));
  });

  it('duplicates from a re-send parse to the same ids', async () => {
    const file = join(h.dir, 'app.log');
    writeFileSync(file, lines(0, 5));
    const a = h.shipper({ paths: [file] });
    await a.start();
    await waitFor(countIs(5), { what: '5' });
    await a.stop();
    // Lose the checkpoint's progress: everything is re-sent.
    const cp = readCheckpoint(h.checkpointPath);
    for (const e of Object.values(cp.files)) e.offset = 0;
    writeFileSync(h.checkpointPath, JSON.stringify(cp));
    const b = h.shipper({ paths: [file] });
    await b.start();
    await waitFor(countIs(10), { what: '10' });
    const ids = (await h.records()).map((r) => parseRawLog(r).id);
    expect(new Set(ids).size).toBe(5);
  });

  it('generator rotating its file every few KB while the shipper follows it: every event once', async () => {
    const file = join(h.dir, 'app.log');
    const s = h.shipper({ paths: [file] });
    await s.start();
    const gen = startGenerator({
      output: file,
      rate: 3000,
      count: 3000,
      rotateBytes: 20_000,
      keepFiles: 50,
      seed: 8,
    });
    const stats = await gen.done;
    expect(stats.rotations).toBeGreaterThan(3);
    await waitFor(async () => (await h.records()).length >= 3000, { what: '3000 events', timeoutMs: 15_000 });
    await waitFor(() => s.stats().bufferedRecords === 0 && s.stats().filesOpen === 1, { what: 'settled' });
    const recs = await h.records();
    expect(recs).toHaveLength(3000);
    const parsed = recs.map((r) => parseRawLog(r));
    expect(parsed.every((p) => p.level !== 'UNKNOWN')).toBe(true);
    expect(new Set(parsed.map((p) => p.id)).size).toBe(3000);
    expect(parsed.filter((p) => p.level === 'ERROR').length).toBe(stats.byLevel.ERROR);
  });
});
