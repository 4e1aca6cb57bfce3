/**
 * Commit positions for out-of-order completion: records of a partition finish in any order (one
 * receiver may retry for an hour while later alerts go out), but a partition's offset may only
 * move past a record once it and every record before it are done.
 */
export class OffsetTracker {
  private readonly partitions = new Map<string, { offset: number; done: boolean }[]>();

  add(topic: string, partition: number, offset: number): void {
    const key = `${topic}:${partition}`;
    const queue = this.partitions.get(key) ?? [];
    queue.push({ offset, done: false });
    this.partitions.set(key, queue);
  }

  /** Marks a record done; returns the next offset to commit when the committable position moved. */
  done(topic: string, partition: number, offset: number): number | null {
    const queue = this.partitions.get(`${topic}:${partition}`);
    if (!queue) return null;
    const entry = queue.find((e) => e.offset === offset);
    if (!entry) return null;
    entry.done = true;
    let commit: number | null = null;
    while (queue.length > 0 && queue[0].done) commit = queue.shift()!.offset + 1;
    return commit;
  }

  /** Records in flight (not yet committable) across all partitions. */
  pending(topic?: string, partition?: number): number {
    if (topic !== undefined) return this.partitions.get(`${topic}:${partition}`)?.length ?? 0;
    let n = 0;
    for (const q of this.partitions.values()) n += q.length;
    return n;
  }

  /** Forgets a partition (revoked: its new owner redelivers what was not committed). */
  drop(topic: string, partition: number): void {
    this.partitions.delete(`${topic}:${partition}`);
  }
}
