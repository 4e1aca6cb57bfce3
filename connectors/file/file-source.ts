/**
 * The file source ("shipper"): follows files like `tail -F` and sends every line (multi-line
 * entries joined) to a topic, at least once.
 *
 *  - Files are known by device + inode, checked against a fingerprint of their first bytes.
 *  - Rename rotation: the renamed file stays open and is read to its end; the new file at the
 *    path is followed from its start. Deleted files likewise.
 *  - Truncation / copytruncate (size below our position, or the first bytes changed): a new
 *    generation is read from 0; the old generation is kept as `orphaned`, and a sibling copy with
 *    its first bytes (`app.log.1` made by copytruncate) is adopted and read from where we were, so
 *    lines written just before the truncation are not lost.
 *  - A new file whose first bytes equal a file we already follow is a copy, not new data: skipped.
 *  - Offsets reach the checkpoint only after the producer acknowledged the records.
 *  - Reading stops while the delivery buffer is full (backpressure).
 */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createLogger } from '../../common/logger.ts';
import type { RawLog } from '../../pipeline/parse/raw-log.ts';
import { type Checkpoint, type CheckpointEntry, CheckpointWriter, readCheckpoint } from './checkpoint.ts';
import { Delivery, type QueuedRecord } from './delivery.ts';
import { currentPathOf, fingerprintOf, newFileId, serviceFromPath } from './file-identity.ts';
import { expandGlob } from './glob.ts';
import { shipperMetrics } from './metrics.ts';
import type { JoinedRecord } from './multiline-joiner.ts';
import { resolveShipperOptions, type ShipperOptions } from './options.ts';
import { TrackedFile } from './tracked-file.ts';

export interface ShipperStats {
  /** Records handed to the delivery queue. */
  recordsRead: number;
  recordsAcked: number;
  bytesRead: number;
  sendFailures: number;
  truncations: number;
  rotations: number;
  bufferedRecords: number;
  filesOpen: number;
  lastAckAt: number | null;
  lastError: string | null;
}

/**
 * A running file source. `start()` loads the checkpoint and begins following; `stop()` stops
 * reading, waits up to `drainTimeoutMs` for queued records to be acknowledged, writes the
 * checkpoint and closes every file — idempotent. After a crash instead of `stop()`, the next start
 * re-sends only records that were not yet acknowledged (with the same file_id and offsets).
 */
export interface Shipper {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): ShipperStats;
  /** The checkpoint as it is now in memory (acknowledged offsets). */
  checkpoint(): Checkpoint;
}

const COPY_MIN_FINGERPRINT = 32;
/**
 * File times lag `Date.now()`: Linux stamps them from a coarse clock (up to a tick behind) and
 * some filesystems keep whole seconds. A missed generation may look this much older than it is.
 */
const MTIME_SLACK_MS = 2000;

/** When the generation began at its path at the latest (see `CheckpointEntry.startedAfter`). */
const startedAfterOf = (e: CheckpointEntry) => e.startedAfter ?? e.discoveredAt;

export function createShipper(options: ShipperOptions): Shipper {
  const o = resolveShipperOptions(options);
  const log = createLogger('shipper', { topic: o.topic });
  let checkpoint: Checkpoint = { version: 1, files: {} };
  const writer = new CheckpointWriter(o.checkpointPath, () => checkpoint);
  const tracked = new Map<string, TrackedFile>(); // by fileId, in discovery order
  const byInode = new Map<string, TrackedFile>();
  const activeByPath = new Map<string, TrackedFile>();
  /** Per followed path, when the newest generation we followed there began at the latest. */
  const lastFollowedAt = new Map<string, number>();
  let startedAt = Date.now();
  /** Truncated generations: how far they were read, so an adopted copy continues from there. */
  const orphanReadUpTo = new Map<string, number>();
  const readBuffer = Buffer.alloc(256 * 1024);
  const limits = {
    maxRecordBytes: o.maxRecordBytes,
    maxMultilineLines: o.maxMultilineLines,
    readChunkBytes: readBuffer.length,
    maxBytesPerTick: 8 * 1024 * 1024,
  };
  const stats = { recordsRead: 0, bytesRead: 0, truncations: 0, rotations: 0 };
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeLoop: (() => void) | undefined;
  let stopped: Promise<void> | undefined;

  const metrics = o.metricsRegistry
    ? shipperMetrics(o.metricsRegistry, () => {
        let behind = 0;
        let open = 0;
        for (const t of tracked.values()) {
          if (t.closed) continue;
          open++;
          behind += Math.max(0, t.lastSize - t.entry.offset);
        }
        return { behind, open };
      })
    : undefined;

  const delivery = new Delivery({
    producer: o.producer,
    serde: o.serde,
    topic: o.topic,
    batchMaxRecords: o.batchMaxRecords,
    batchMaxBytes: o.batchMaxBytes,
    retry: o.retry,
    logger: log,
    onSendError: () => metrics?.sendError(),
    onAck(records, at) {
      metrics?.acked(records.length);
      for (const r of records) {
        const entry = checkpoint.files[r.fileId];
        if (!entry) continue;
        if (r.end > entry.offset) entry.offset = r.end;
        entry.lastAckAt = at;
        entry.updatedAt = at;
      }
      saveCheckpoint();
    },
  });

  function saveCheckpoint(): Promise<void> {
    return writer.write().catch((err) => log.error({ err }, 'checkpoint write failed'));
  }

  const canRead = () =>
    delivery.bufferedRecords < o.maxBufferedRecords && delivery.bufferedBytes < o.maxBufferedBytes;

  function keyOf(entry: CheckpointEntry, service: string): Buffer {
    if (o.keyBy === 'service') return Buffer.from(service);
    if (o.keyBy === 'file') return Buffer.from(entry.fileId);
    return Buffer.from(entry.logicalPath);
  }

  function emit(t: TrackedFile, records: JoinedRecord[], now: number): void {
    const entry = t.entry;
    const service = o.service ?? serviceFromPath(entry.logicalPath);
    const key = keyOf(entry, service);
    for (const rec of records) {
      t.lastQueuedEnd = rec.end;
      // Blank lines carry nothing; their bytes are covered by the next record's checkpoint.
      if (rec.text === '') continue;
      const value: RawLog = {
        raw_log: rec.text,
        metadata: {
          source: o.hostname,
          file_path: entry.logicalPath,
          shipper_timestamp: now,
          service,
          file_id: entry.fileId,
          offset: rec.offset,
          truncated: rec.truncated,
        },
      };
      const bytes = rec.text.length + 200;
      delivery.push({ fileId: entry.fileId, end: rec.end, key, value, bytes } satisfies QueuedRecord);
      stats.recordsRead++;
      metrics?.read(1);
      stats.bytesRead += rec.end - rec.offset;
    }
  }

  /** Whether the first `entry.fpLen` bytes of `handle` are still the ones fingerprinted. */
  async function prefixMatches(
    handle: import('node:fs/promises').FileHandle,
    entry: CheckpointEntry,
  ): Promise<boolean> {
    const fp = await fingerprintOf(handle, entry.fpLen);
    return fp.length === entry.fpLen && fp.hash === entry.fpHash;
  }

  function newEntry(
    path: string,
    logicalPath: string,
    st: { dev: number; ino: number },
    fp: { hash: string; length: number },
    offset: number,
    state: CheckpointEntry['state'],
  ): CheckpointEntry {
    const now = Date.now();
    const entry: CheckpointEntry = {
      fileId: newFileId(st.dev, st.ino),
      dev: st.dev,
      ino: st.ino,
      fpHash: fp.hash,
      fpLen: fp.length,
      logicalPath,
      path,
      offset,
      state,
      discoveredAt: now,
      lastAckAt: null,
      updatedAt: now,
    };
    checkpoint.files[entry.fileId] = entry;
    return entry;
  }

  function follow(
    entry: CheckpointEntry,
    handle: import('node:fs/promises').FileHandle,
    startOffset = entry.offset,
  ): TrackedFile {
    const t = new TrackedFile(entry, handle, limits, readBuffer, Date.now(), startOffset);
    tracked.set(entry.fileId, t);
    byInode.set(t.inodeKey, t);
    if (entry.state === 'active') {
      activeByPath.set(entry.logicalPath, t);
      lastFollowedAt.set(entry.logicalPath, startedAfterOf(entry));
    }
    log.info(
      { path: entry.path, fileId: entry.fileId, offset: entry.offset, state: entry.state },
      'following file',
    );
    return t;
  }

  /** Starts following the file now at `path` (an inode we do not follow yet). */
  async function track(
    path: string,
    st: { dev: number; ino: number; size: number },
    initial: boolean,
    rotatedFrom?: string,
  ) {
    let handle: import('node:fs/promises').FileHandle;
    try {
      handle = await open(path, 'r');
    } catch {
      return;
    }
    try {
      // The path may have been rotated between the caller's stat and our open: what we opened is
      // what counts.
      const opened = await handle.stat();
      if (opened.dev !== st.dev || opened.ino !== st.ino) {
        if (byInode.has(`${opened.dev}:${opened.ino}`)) {
          await handle.close();
          return;
        }
        st = opened;
      }
      // 1. A file we knew before (restart, or a finished file matched again by the glob).
      for (const e of Object.values(checkpoint.files)) {
        if (e.dev !== st.dev || e.ino !== st.ino || e.state === 'orphaned' || tracked.has(e.fileId)) continue;
        const same = await prefixMatches(handle, e);
        if (same && e.state === 'done' && st.size <= e.offset) {
          await handle.close();
          return;
        }
        if (!same || st.size < e.offset) {
          // Rewritten or truncated while we were away (or a recycled inode): that generation is
          // over; its copy may still turn up. This file is new data (below).
          if (e.state !== 'done') e.state = 'orphaned';
          e.updatedAt = Date.now();
          continue;
        }
        e.path = path;
        e.state = e.logicalPath === path && !activeByPath.has(path) ? 'active' : 'rotated';
        follow(e, handle);
        return;
      }
      const fp = await fingerprintOf(handle, o.fingerprintBytes);
      if (fp.length >= COPY_MIN_FINGERPRINT) {
        // 2. A copy of a file we follow (copytruncate made it, truncation not seen yet): skip
        //    for now; once the original is truncated, step 3 adopts the copy.
        for (const t of [...tracked.values()]) {
          const n = Math.min(t.entry.fpLen, fp.length);
          if (t.closed || n < COPY_MIN_FINGERPRINT) continue;
          const [mine, theirs] = await Promise.all([fingerprintOf(t.handle, n), fingerprintOf(handle, n)]);
          if (mine.length === n && mine.hash === theirs.hash) {
            await handle.close();
            return;
          }
          // The file we follow no longer starts as recorded but this one does: it was copied and
          // truncated (or rewritten) and we had not noticed yet (the copy turned up first, e.g. in
          // the same scan as a rename). Orphan that generation now so step 3 adopts its copy;
          // read as new data, the copy would re-send the lines already sent under another id.
          if (
            t.entry.fpLen <= fp.length &&
            (await prefixMatches(handle, t.entry)) &&
            !(await prefixMatches(t.handle, t.entry))
          ) {
            await newGeneration(t, Date.now());
          }
        }
        // 3. The copy of a truncated generation: continue it where it was acknowledged.
        for (const e of Object.values(checkpoint.files)) {
          if (e.state !== 'orphaned' || e.fpLen < COPY_MIN_FINGERPRINT || e.fpLen > fp.length) continue;
          if (!(await prefixMatches(handle, e)) || st.size < e.offset) continue;
          Object.assign(e, { dev: st.dev, ino: st.ino, path, state: 'rotated', updatedAt: Date.now() });
          // Continue after what was already read (in flight or acknowledged), not just acknowledged.
          const from = Math.max(e.offset, orphanReadUpTo.get(e.fileId) ?? 0);
          orphanReadUpTo.delete(e.fileId);
          log.info({ path, fileId: e.fileId, offset: from }, 'adopted the copy of a truncated file');
          follow(e, handle, from);
          return;
        }
      }
      // 4. New data.
      const offset = initial && o.startAt === 'end' ? st.size : 0;
      if (rotatedFrom !== undefined) {
        // A generation that was rotated away before we saw it at its path.
        follow(newEntry(path, rotatedFrom, st, fp, offset, 'rotated'), handle);
        return;
      }
      const active = !activeByPath.has(path);
      follow(newEntry(path, path, st, fp, offset, active ? 'active' : 'rotated'), handle);
    } catch (err) {
      log.warn({ err, path }, 'cannot follow file');
      await handle.close().catch(() => {});
    }
  }

  function markRotated(t: TrackedFile): void {
    if (t.entry.state !== 'active') return;
    t.entry.state = 'rotated';
    t.entry.path = currentPathOf(t.handle.fd) ?? t.entry.path;
    t.entry.updatedAt = Date.now();
    if (activeByPath.get(t.entry.logicalPath) === t) activeByPath.delete(t.entry.logicalPath);
    stats.rotations++;
    log.info({ path: t.entry.logicalPath, now: t.entry.path }, 'file rotated');
  }

  async function onTruncated(t: TrackedFile, now: number): Promise<void> {
    const old = await newGeneration(t, now);
    // The copy copytruncate made continues the old generation (adopted by its first bytes); a
    // copy of a generation we never saw (two quick copytruncates) is read from its start.
    await trackMissedGenerations(old.logicalPath, startedAfterOf(old));
  }

  /**
   * `t`'s file was truncated or rewritten: its generation becomes `orphaned` (remembering how far
   * it was read, for its copy) and `t` goes on reading the new content as a new generation.
   * Returns the old generation's entry.
   */
  async function newGeneration(t: TrackedFile, now: number): Promise<CheckpointEntry> {
    stats.truncations++;
    // What was read of the old generation is complete as far as it goes.
    const out: JoinedRecord[] = [];
    t.flushPending(out);
    emit(t, out, now);
    const old = t.entry;
    orphanReadUpTo.set(old.fileId, t.completeOffset);
    old.state = 'orphaned';
    old.updatedAt = now;
    tracked.delete(old.fileId);
    const st = await t.handle.stat();
    const fp = await fingerprintOf(t.handle, o.fingerprintBytes);
    const state = activeByPath.get(old.logicalPath) === t ? 'active' : 'rotated';
    const entry = newEntry(old.path, old.logicalPath, { dev: st.dev, ino: st.ino }, fp, 0, state);
    // The truncation happened after the old generation was last seen intact, maybe long before we
    // noticed: this one may even have been rotated away already, and later ones must still be
    // found by trackMissedGenerations (from here, not from now).
    entry.startedAfter = t.confirmedAt;
    t.restart(entry, now);
    tracked.set(entry.fileId, t);
    log.info({ path: old.logicalPath, oldFileId: old.fileId, fileId: entry.fileId }, 'file truncated');
    await saveCheckpoint();
    return old;
  }

  /**
   * A file can be created and rotated away between two scans (fast rotation): at a rotation of
   * `logicalPath`, siblings named after it (`app.log.1`, …) that we do not know and that were
   * written since the previous generation began at the path (`startedAfter`: when the one before
   * it was last seen there — not when we noticed, which can be much later) are such missed
   * generations. They are read from their start, oldest first. Copies and known files are sorted
   * out by `track`.
   */
  async function trackMissedGenerations(logicalPath: string, startedAfter: number): Promise<void> {
    // Never older than what the checkpoint still remembers as done (older ones would be re-sent).
    // Older known files that the slack lets in are sorted out by `track`.
    const sinceMs = Math.max(startedAfter - MTIME_SLACK_MS, Date.now() - o.forgetAfterMs / 2);
    const dir = dirname(logicalPath);
    const base = basename(logicalPath);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    const candidates: { path: string; st: import('node:fs').Stats }[] = [];
    for (const name of names) {
      if (name === base || !name.startsWith(base)) continue;
      const path = join(dir, name);
      try {
        const st = await stat(path);
        if (st.isFile() && st.mtimeMs >= sinceMs && !byInode.has(`${st.dev}:${st.ino}`))
          candidates.push({ path, st });
      } catch {
        // vanished meanwhile
      }
    }
    candidates.sort((a, b) => a.st.mtimeMs - b.st.mtimeMs);
    for (const { path, st } of candidates) await track(path, st, false, logicalPath);
  }

  /** Re-expands the globs: new files, rotations (a new inode at a followed path), vanished paths. */
  async function scan(initial: boolean): Promise<void> {
    const paths = new Set<string>();
    for (const p of o.paths) for (const m of await expandGlob(p)) paths.add(m);
    const seen = new Set<TrackedFile>();
    for (const path of paths) {
      let st: import('node:fs').Stats;
      try {
        st = await stat(path);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      const known = byInode.get(`${st.dev}:${st.ino}`);
      if (known) {
        if (known.entry.logicalPath === path) seen.add(known);
        continue;
      }
      const previous = activeByPath.get(path);
      if (previous) markRotated(previous);
      // Generations created and rotated away since the last one we followed here are siblings now.
      // A path first seen while running may have rotated before we saw it: its generations
      // written since we started are ours too (files rotated before we started are not).
      const since = lastFollowedAt.get(path) ?? (initial ? undefined : startedAt);
      if (since !== undefined) await trackMissedGenerations(path, since);
      await track(path, st, initial);
      // The path may have rotated again while we opened it (we then follow the newest file).
      if (since !== undefined) await trackMissedGenerations(path, since);
      const now = activeByPath.get(path);
      if (now) seen.add(now);
    }
    for (const t of [...activeByPath.values()]) if (!seen.has(t)) markRotated(t);
    // Content checks: a rewritten start means a new generation even when the size grew past us.
    for (const t of [...tracked.values()]) {
      if (t.closed) continue;
      try {
        if (t.entry.fpLen > 0 && !(await prefixMatches(t.handle, t.entry))) {
          await onTruncated(t, Date.now());
        } else if (t.entry.fpLen < o.fingerprintBytes && t.lastSize > t.entry.fpLen) {
          const fp = await fingerprintOf(t.handle, o.fingerprintBytes);
          t.entry.fpHash = fp.hash;
          t.entry.fpLen = fp.length;
        }
      } catch (err) {
        log.warn({ err, path: t.entry.path }, 'fingerprint check failed');
      }
    }
  }

  /**
   * Before the first scan after a restart: an unfinished generation whose file was truncated or
   * rewritten while we were down is orphaned first, so that its copy (copytruncate) is adopted
   * rather than read again as new data. The file is looked for by inode at its last path and
   * next to its followed path (it may have been rotated away after the truncation); one that is
   * nowhere is orphaned too (recoverUnmatched would conclude the same, after the scan).
   */
  async function orphanRewritten(): Promise<void> {
    for (const e of Object.values(checkpoint.files)) {
      if (e.state === 'done' || e.state === 'orphaned') continue;
      const path = await findByInode(e);
      if (path === undefined) {
        e.state = 'orphaned';
        e.updatedAt = Date.now();
        continue;
      }
      let handle: import('node:fs/promises').FileHandle | undefined;
      try {
        handle = await open(path, 'r');
        const st = await handle.stat();
        if (st.dev !== e.dev || st.ino !== e.ino) continue;
        if (st.size < e.offset || !(await prefixMatches(handle, e))) {
          e.state = 'orphaned';
          e.updatedAt = Date.now();
        }
      } catch {
        // vanished meanwhile: recoverUnmatched looks for it again
      } finally {
        await handle?.close().catch(() => {});
      }
    }
  }

  /** The entry's last path, then the siblings named after its followed path (`app.log.*`). */
  async function whereItMayBe(e: CheckpointEntry): Promise<string[]> {
    const candidates = [e.path];
    try {
      const base = basename(e.logicalPath);
      for (const name of await readdir(dirname(e.logicalPath))) {
        if (name.startsWith(base)) candidates.push(join(dirname(e.logicalPath), name));
      }
    } catch {
      // directory gone
    }
    return candidates;
  }

  /** Where the entry's inode is now: its last path, or a sibling named after its followed path. */
  async function findByInode(e: CheckpointEntry): Promise<string | undefined> {
    for (const path of await whereItMayBe(e)) {
      try {
        const st = await stat(path);
        if (st.dev === e.dev && st.ino === e.ino) return path;
      } catch {
        // not there
      }
    }
    return undefined;
  }

  /** After a restart: unfinished files of the checkpoint that the globs no longer match (renamed away). */
  async function recoverUnmatched(): Promise<void> {
    for (const e of Object.values(checkpoint.files)) {
      if (tracked.has(e.fileId) || e.state === 'done') continue;
      for (const path of await whereItMayBe(e)) {
        try {
          const st = await stat(path);
          if (!st.isFile() || byInode.has(`${st.dev}:${st.ino}`)) continue;
          if (e.state !== 'orphaned' && (st.dev !== e.dev || st.ino !== e.ino)) continue;
          if (e.state !== 'orphaned') {
            // Same inode: follow it as rotated from the acknowledged offset.
            const handle = await open(path, 'r');
            if (!(await prefixMatches(handle, e)) || st.size < e.offset) {
              await handle.close();
              continue;
            }
            e.path = path;
            e.state = 'rotated';
            follow(e, handle);
          } else {
            await track(path, st, false);
          }
          if (tracked.has(e.fileId)) break;
        } catch {
          // try the next candidate
        }
      }
      // Gone for good (deleted while we were away): keep it a while as orphaned, then forget it.
      if (!tracked.has(e.fileId) && e.state !== 'orphaned') {
        e.state = 'orphaned';
        e.updatedAt = Date.now();
      }
    }
  }

  function forgetOld(now: number): void {
    for (const [id, e] of Object.entries(checkpoint.files)) {
      if (tracked.has(id)) continue;
      if ((e.state === 'done' || e.state === 'orphaned') && now - e.updatedAt > o.forgetAfterMs) {
        delete checkpoint.files[id];
      }
    }
  }

  async function tick(now: number): Promise<void> {
    for (const t of [...tracked.values()]) {
      if (t.closed) {
        // Closed rotated file: done once everything read was acknowledged.
        if (t.entry.offset >= t.lastQueuedEnd) {
          t.entry.state = 'done';
          t.entry.updatedAt = now;
          tracked.delete(t.entry.fileId);
          // Its inode may be recycled for a new file once closed.
          if (byInode.get(t.inodeKey) === t) byInode.delete(t.inodeKey);
          saveCheckpoint();
        }
        continue;
      }
      const out: JoinedRecord[] = [];
      try {
        if ((await t.read(canRead, (records) => emit(t, records, now), now)) === 'truncated') {
          await onTruncated(t, now);
          continue;
        }
      } catch (err) {
        log.warn({ err, path: t.entry.path }, 'read failed');
      }
      // Idle means nothing left to read: a continuation still unread (backpressure, a busy tick)
      // must not split the entry. A line being written (no newline yet) gets a longer grace.
      const idleMs = now - t.lastDataAt;
      if (
        t.hasPending &&
        idleMs >= o.multilineTimeoutMs &&
        (t.caughtUp || (t.readOffset >= t.lastSize && idleMs >= 4 * o.multilineTimeoutMs))
      ) {
        t.flushPending(out);
      }
      if (
        t.entry.state === 'rotated' &&
        t.readOffset >= t.lastSize &&
        now - t.lastDataAt >= o.rotatedCloseMs
      ) {
        t.finish(out);
        emit(t, out, now);
        await t.close();
        log.info({ path: t.entry.path, fileId: t.entry.fileId }, 'rotated file read to its end');
        continue;
      }
      emit(t, out, now);
    }
  }

  async function run(): Promise<void> {
    let nextScan = Date.now() + o.globIntervalMs;
    while (running) {
      const now = Date.now();
      try {
        if (now >= nextScan) {
          await scan(false);
          forgetOld(now);
          nextScan = now + o.globIntervalMs;
        }
        await tick(now);
      } catch (err) {
        log.error({ err }, 'shipper loop error');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, o.pollIntervalMs);
        wakeLoop = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  return {
    async start() {
      if (running) return;
      startedAt = Date.now();
      checkpoint = readCheckpoint(o.checkpointPath);
      // Generations rotated away while we were down are found from the last one followed.
      for (const e of Object.values(checkpoint.files)) {
        if (e.state === 'active') lastFollowedAt.set(e.logicalPath, startedAfterOf(e));
      }
      running = true;
      await orphanRewritten();
      await scan(true);
      await recoverUnmatched();
      await saveCheckpoint(); // file ids exist on disk before any record carrying them is sent
      delivery.start();
      loop = run();
    },
    stop() {
      stopped ??= (async () => {
        running = false;
        wakeLoop?.();
        await loop;
        const now = Date.now();
        for (const t of tracked.values()) {
          if (t.closed) continue;
          const out: JoinedRecord[] = [];
          t.flushPending(out);
          emit(t, out, now);
        }
        const drained = await delivery.drain(o.drainTimeoutMs);
        if (!drained)
          log.warn({ buffered: delivery.bufferedRecords }, 'stopping with unacknowledged records');
        await delivery.stop();
        await saveCheckpoint();
        for (const t of tracked.values()) await t.close();
      })();
      return stopped;
    },
    stats() {
      return {
        ...stats,
        recordsAcked: delivery.stats.acked,
        sendFailures: delivery.stats.sendFailures,
        bufferedRecords: delivery.bufferedRecords,
        filesOpen: [...tracked.values()].filter((t) => !t.closed).length,
        lastAckAt: delivery.stats.lastAckAt,
        lastError: delivery.stats.lastError,
      };
    },
    checkpoint: () => checkpoint,
  };
}
