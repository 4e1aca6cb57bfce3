/**
 * Cuts a byte stream into lines, remembering where each began, so offsets in checkpoints and
 * ids always point at line starts. A line longer than `maxLineBytes` is cut there (flagged
 * `truncated`) and the rest of it skipped up to its newline, so one huge line costs at most
 * `maxLineBytes` of memory. Bytes are decoded as UTF-8 with invalid sequences replaced (U+FFFD).
 */
export interface Line {
  text: string;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Byte offset just past the line's newline. */
  end: number;
  truncated: boolean;
}

export class LineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private partialStart: number;
  private skipping = false;
  private position: number;

  constructor(
    startOffset: number,
    private readonly maxLineBytes: number,
  ) {
    this.partialStart = startOffset;
    this.position = startOffset;
  }

  /** The offset up to which bytes were consumed (including an incomplete last line). */
  get consumed(): number {
    return this.position;
  }

  /** Where the incomplete last line (if any) starts: every byte before it is in an emitted line. */
  get completeOffset(): number {
    return this.partialStart;
  }

  /** True while an incomplete line (no newline yet) is held. */
  get hasPartial(): boolean {
    return this.partialBytes > 0 || this.skipping;
  }

  /** Feeds the bytes that follow everything fed so far; returns the lines they completed. */
  push(chunk: Buffer): Line[] {
    const lines: Line[] = [];
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(0x0a, from);
      const stop = nl === -1 ? chunk.length : nl;
      this.append(chunk.subarray(from, stop));
      if (nl === -1) break;
      lines.push(this.take(this.position + (nl - from) + 1));
      this.position += nl - from + 1;
      from = nl + 1;
    }
    this.position += chunk.length - from;
    return lines;
  }

  /** Ends the stream: an incomplete last line becomes a line (used when a rotated file is done). */
  finish(): Line | undefined {
    if (!this.hasPartial) return undefined;
    return this.take(this.position);
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const room = this.maxLineBytes - this.partialBytes;
    if (room <= 0) {
      this.skipping = true;
      return;
    }
    const kept = bytes.length > room ? bytes.subarray(0, room) : bytes;
    // Copy: the caller reuses its read buffer.
    this.partial.push(Buffer.from(kept));
    this.partialBytes += kept.length;
    if (bytes.length > room) this.skipping = true;
  }

  private take(end: number): Line {
    let buf = this.partial.length === 1 ? this.partial[0] : Buffer.concat(this.partial, this.partialBytes);
    if (buf.length > 0 && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1);
    let text = buf.toString('utf8');
    let truncated = this.skipping;
    // Invalid bytes decode to U+FFFD (3 bytes each): the text can be up to 3× the bytes read.
    // Records must stay under `maxLineBytes` encoded, or Kafka refuses them (and the shipper
    // would retry that batch forever).
    if (text.length * 3 > this.maxLineBytes && Buffer.byteLength(text) > this.maxLineBytes) {
      text = cutUtf8(text, this.maxLineBytes);
      truncated = true;
    }
    const line: Line = { text, offset: this.partialStart, end, truncated };
    this.partial = [];
    this.partialBytes = 0;
    this.skipping = false;
    this.partialStart = end;
    return line;
  }
}

/** The longest prefix of `text` that is at most `maxBytes` in UTF-8, cut at a character boundary. */
export function cutUtf8(text: string, maxBytes: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}
