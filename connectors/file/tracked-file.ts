/**
 * One file the shipper follows: its open handle (so a renamed or deleted file is still read to
 * its end), its read position, and the line splitter and multi-line joiner that turn bytes into
 * records. The checkpoint entry it points at holds the acknowledged offset; `readOffset` here
 * runs ahead of it by whatever is buffered or in flight.
 */
import type { FileHandle } from 'node:fs/promises';
import type { CheckpointEntry } from './checkpoint.ts';
import { fingerprintOf } from './file-identity.ts';
import { LineSplitter } from './line-splitter.ts';
import { type JoinedRecord, MultilineJoiner } from './multiline-joiner.ts';

export interface ReadLimits {
  maxRecordBytes: number;
  maxMultilineLines: number;
  readChunkBytes: number;
  /** Upper bound of bytes read from one file per tick, so one busy file cannot starve others. */
  maxBytesPerTick: number;
}

export type ReadOutcome = 'ok' | 'truncated';

export class TrackedFile {
  private splitter: LineSplitter;
  private joiner: MultilineJoiner;
  /** When bytes last arrived (for the multi-line idle flush and closing rotated files). */
  lastDataAt: number;
  lastSize = 0;
  /** End offset of the last record handed to delivery (the checkpoint reaches it once acked). */
  lastQueuedEnd: number;
  /** Set once a rotated file was read to its end and closed; acks may still be outstanding. */
  closed = false;
  /**
   * When the file was last seen still holding this generation (taken before the check): a
   * truncation found later happened after this, so the next generation began after it.
   */
  confirmedAt: number;

  constructor(
    public entry: CheckpointEntry,
    readonly handle: FileHandle,
    private readonly limits: ReadLimits,
    private readonly buffer: Buffer,
    now: number,
    startOffset: number = entry.offset,
  ) {
    this.lastQueuedEnd = startOffset;
    this.splitter = new LineSplitter(startOffset, limits.maxRecordBytes);
    this.joiner = new MultilineJoiner(limits.maxRecordBytes, limits.maxMultilineLines);
    this.lastDataAt = now;
    this.confirmedAt = now;
  }

  get inodeKey(): string {
    return `${this.entry.dev}:${this.entry.ino}`;
  }

  /** Bytes consumed so far (records emitted, pending, or an incomplete last line). */
  get readOffset(): number {
    return this.splitter.consumed;
  }

  /** Every byte before this is in a record already emitted or pending (not a partial line). */
  get completeOffset(): number {
    return this.splitter.completeOffset;
  }

  /**
   * Whether every byte the file had at the last stat was read and ends a line: only then can a
   * pending multi-line record be flushed for being idle — unread bytes (backpressure, the per-tick
   * budget) or a line still being written may be its continuation.
   */
  get caughtUp(): boolean {
    return this.splitter.consumed >= this.lastSize && !this.splitter.hasPartial;
  }

  get hasPending(): boolean {
    return this.joiner.hasPending;
  }

  /** Starts a new generation (after a truncation) at offset 0 with a fresh entry. */
  restart(entry: CheckpointEntry, now: number): void {
    this.entry = entry;
    this.lastQueuedEnd = entry.offset;
    this.splitter = new LineSplitter(entry.offset, this.limits.maxRecordBytes);
    this.joiner = new MultilineJoiner(this.limits.maxRecordBytes, this.limits.maxMultilineLines);
    this.lastDataAt = now;
    this.confirmedAt = now;
  }

  /**
   * Reads what is there while `canRead()` allows (backpressure), handing the records completed by
   * each chunk to `emit` (so the buffer `canRead` measures grows as we read). Reports `truncated`
   * — without reading — when the file shrank below our position or its first bytes changed.
   */
  async read(
    canRead: () => boolean,
    emit: (records: JoinedRecord[]) => void,
    now: number,
  ): Promise<ReadOutcome> {
    const checkedAt = Date.now();
    const { size } = await this.handle.stat();
    const changed = size !== this.lastSize;
    this.lastSize = size;
    if (size < this.splitter.consumed) return 'truncated';
    // A file rewritten in place can be longer than our position: the first bytes tell.
    if (changed && this.entry.fpLen > 0) {
      const fp = await fingerprintOf(this.handle, this.entry.fpLen);
      if (fp.length < this.entry.fpLen || fp.hash !== this.entry.fpHash) return 'truncated';
    }
    this.confirmedAt = checkedAt;
    let budget = this.limits.maxBytesPerTick;
    while (budget > 0 && this.splitter.consumed < size && canRead()) {
      const want = Math.min(this.buffer.length, size - this.splitter.consumed, budget);
      const { bytesRead } = await this.handle.read(this.buffer, 0, want, this.splitter.consumed);
      if (bytesRead === 0) break;
      budget -= bytesRead;
      const out: JoinedRecord[] = [];
      for (const line of this.splitter.push(this.buffer.subarray(0, bytesRead))) this.joiner.push(line, out);
      if (out.length > 0) emit(out);
      this.lastDataAt = now;
    }
    return 'ok';
  }

  /** Releases a multi-line record that waited long enough for more continuation lines. */
  flushPending(out: JoinedRecord[]): void {
    this.joiner.flush(out);
  }

  /** The file is done (rotated and idle): the incomplete last line, if any, becomes a record. */
  finish(out: JoinedRecord[]): void {
    const last = this.splitter.finish();
    if (last) this.joiner.push(last, out);
    this.joiner.flush(out);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.handle.close().catch(() => {});
  }
}
