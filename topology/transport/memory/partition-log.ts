import type { Headers } from '../../record.ts';
import type { IncomingMessage } from '../transport.ts';

const EMPTY: IncomingMessage[] = [];

/**
 * One partition of a memory topic: an append-only array of messages whose index is
 * `offset - base`. Stored messages are handed to consumers as they are (no copy per delivery), so
 * consumers must treat them as read-only.
 *
 * Retention: once more than `retainMessages` (plus a quarter, to amortise the copy) are held, the
 * oldest are dropped and the log start offset moves, as Kafka's size retention does. A compacted
 * partition additionally keeps the latest message per key, which is what `readPartition` serves,
 * so a changelog never loses state to retention.
 */
export class PartitionLog {
  private messages: IncomingMessage[] = [];
  private base = 0;
  /** The next offset to be written. */
  end = 0;
  private readonly latestByKey: Map<string, IncomingMessage> | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    compacted: boolean,
    private readonly retainMessages: number,
  ) {
    this.latestByKey = compacted ? new Map() : undefined;
  }

  /** The first offset still held. */
  get start(): number {
    return this.base;
  }

  append(key: Buffer | null, value: Buffer | null, timestamp: number, headers: Headers): number {
    const offset = this.end++;
    const message: IncomingMessage = {
      topic: this.topic,
      partition: this.partition,
      offset,
      key,
      value,
      timestamp,
      headers,
    };
    this.messages.push(message);
    if (this.latestByKey && key) {
      const id = key.toString('latin1');
      // A tombstone deletes the key: restore starts from an empty store, so it needs no marker.
      if (value === null) this.latestByKey.delete(id);
      else this.latestByKey.set(id, message);
    }
    if (this.messages.length > this.retainMessages + (this.retainMessages >> 2)) this.trim();
    return offset;
  }

  /** Up to `max` messages from `from` (clamped to the log start). Never copies more than needed. */
  read(from: number, max: number): IncomingMessage[] {
    const start = Math.max(from, this.base) - this.base;
    if (start >= this.messages.length) return EMPTY;
    return this.messages.slice(start, Math.min(this.messages.length, start + max));
  }

  /**
   * What a restore reads: on a compacted partition the latest value per key (in offset order,
   * tombstoned keys left out); otherwise everything still held. Only messages at or after `from`.
   */
  snapshot(from: number): IncomingMessage[] {
    if (!this.latestByKey) return this.read(from, Number.MAX_SAFE_INTEGER);
    const out: IncomingMessage[] = [];
    for (const message of this.latestByKey.values()) if (message.offset >= from) out.push(message);
    // Keyless messages are never compacted away.
    for (const message of this.messages)
      if (message.key === null && message.offset >= from) out.push(message);
    return out.sort((a, b) => a.offset - b.offset);
  }

  private trim(): void {
    const drop = this.messages.length - this.retainMessages;
    this.messages = this.messages.slice(drop);
    this.base += drop;
  }
}
