/**
 * Joins continuation lines (stack traces) to the record they belong to: a line starting with
 * whitespace, `at `, `Caused by` or `...` is appended (with `\n`) to the pending record. A
 * pending record is released when the next record starts, when it would grow past
 * `maxRecordBytes` or `maxLines`, or by `flushIdle()` once nothing arrived for a short while (so
 * the last error of a quiet file is not held back forever).
 */
import type { Line } from './line-splitter.ts';

export interface JoinedRecord {
  text: string;
  offset: number;
  end: number;
  truncated: boolean;
}

const CONTINUATION = /^(?:[ \t]|at |Caused by|\.\.\.)/;

export function isContinuation(line: string): boolean {
  return CONTINUATION.test(line);
}

export class MultilineJoiner {
  private pending: JoinedRecord | undefined;
  private pendingLines = 0;
  private pendingBytes = 0;

  constructor(
    private readonly maxRecordBytes: number,
    private readonly maxLines: number,
  ) {}

  get hasPending(): boolean {
    return this.pending !== undefined;
  }

  /** Adds one line; returns the records it completed (zero or one, sometimes two). */
  push(line: Line, out: JoinedRecord[]): void {
    const bytes = Buffer.byteLength(line.text);
    if (
      this.pending &&
      isContinuation(line.text) &&
      this.pendingLines < this.maxLines &&
      this.pendingBytes + 1 + bytes <= this.maxRecordBytes
    ) {
      this.pending.text += `\n${line.text}`;
      this.pending.end = line.end;
      this.pending.truncated ||= line.truncated;
      this.pendingLines++;
      this.pendingBytes += 1 + bytes;
      return;
    }
    if (this.pending) out.push(this.pending);
    this.pending = { text: line.text, offset: line.offset, end: line.end, truncated: line.truncated };
    this.pendingLines = 1;
    this.pendingBytes = bytes;
  }

  /** Releases the pending record, if any. */
  flush(out: JoinedRecord[]): void {
    if (this.pending) out.push(this.pending);
    this.pending = undefined;
    this.pendingLines = 0;
    this.pendingBytes = 0;
  }
}
