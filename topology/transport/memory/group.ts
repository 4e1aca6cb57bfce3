import type { TopicPartition } from '../transport.ts';

/** What the group coordinator needs from a member (implemented by `MemoryConsumer`). */
export interface GroupMember {
  readonly memberId: string;
  readonly topics: ReadonlySet<string>;
  /** Partitions this member holds now. */
  assignedPartitions(): TopicPartition[];
  /** Stops fetching, lets an in-flight batch finish, then calls the app's `onRevoked`. */
  revoke(partitions: TopicPartition[]): Promise<void>;
  /** Positions the partitions (committed offset or reset policy) and calls the app's `onAssigned`. */
  assign(partitions: TopicPartition[]): Promise<void>;
}

export type AssignmentStrategy = 'range' | 'roundrobin';

const key = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

/**
 * One consumer group of the memory transport: its members, its committed offsets, and the
 * rebalance that moves partitions between members. Rebalances run one at a time; a partition is
 * always revoked from its old owner (which flushes and commits in `onRevoked`) before it is given
 * to its new owner, so no partition is ever processed by two members at once. Only partitions that
 * move are revoked (cooperative), so a join does not stall the members that keep their work.
 */
export class MemoryGroup {
  private readonly members: GroupMember[] = [];
  private readonly committed = new Map<string, number[]>();
  private queue: Promise<void> = Promise.resolve();
  generation = 0;

  constructor(
    readonly groupId: string,
    private readonly partitionCount: (topic: string) => number | undefined,
    private readonly strategy: AssignmentStrategy,
  ) {}

  get size(): number {
    return this.members.length;
  }

  hasMember(member: GroupMember): boolean {
    return this.members.includes(member);
  }

  join(member: GroupMember): Promise<void> {
    if (!this.members.includes(member)) this.members.push(member);
    return this.rebalance();
  }

  /** Removes the member after revoking everything it holds. */
  leave(member: GroupMember): Promise<void> {
    return this.enqueue(async () => {
      const held = member.assignedPartitions();
      if (held.length > 0) await member.revoke(held);
      const i = this.members.indexOf(member);
      if (i >= 0) this.members.splice(i, 1);
      await this.doRebalance();
    });
  }

  /** Drops a dead member without revoking (its uncommitted work is redone by the new owner). */
  evict(member: GroupMember): Promise<void> {
    return this.enqueue(async () => {
      const i = this.members.indexOf(member);
      if (i >= 0) this.members.splice(i, 1);
      await this.doRebalance();
    });
  }

  rebalance(): Promise<void> {
    return this.enqueue(() => this.doRebalance());
  }

  subscribes(topic: string): boolean {
    return this.members.some((m) => m.topics.has(topic));
  }

  commit(topic: string, partition: number, offset: number): void {
    let offsets = this.committed.get(topic);
    if (!offsets) {
      offsets = [];
      this.committed.set(topic, offsets);
    }
    offsets[partition] = offset;
  }

  committedOffset(topic: string, partition: number): number | undefined {
    return this.committed.get(topic)?.[partition];
  }

  forgetTopic(topic: string): void {
    this.committed.delete(topic);
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async doRebalance(): Promise<void> {
    this.generation++;
    const target = this.computeAssignment();
    const revocations: Promise<void>[] = [];
    const additions: Array<[GroupMember, TopicPartition[]]> = [];
    for (const member of this.members) {
      const wanted = target.get(member) ?? [];
      const wantedKeys = new Set(wanted.map(key));
      const held = member.assignedPartitions();
      const heldKeys = new Set(held.map(key));
      const lost = held.filter((tp) => !wantedKeys.has(key(tp)));
      const gained = wanted.filter((tp) => !heldKeys.has(key(tp)));
      if (lost.length > 0) revocations.push(member.revoke(lost));
      if (gained.length > 0) additions.push([member, gained]);
    }
    await Promise.all(revocations);
    await Promise.all(additions.map(([member, gained]) => member.assign(gained)));
  }

  private computeAssignment(): Map<GroupMember, TopicPartition[]> {
    const result = new Map<GroupMember, TopicPartition[]>(this.members.map((m) => [m, []]));
    const topics = new Set<string>();
    for (const m of this.members) for (const t of m.topics) topics.add(t);
    const sortedTopics = [...topics].sort();
    if (this.strategy === 'roundrobin') {
      // Kafka's RoundRobinAssignor: all partitions of all topics dealt one by one.
      let i = 0;
      for (const topic of sortedTopics) {
        const n = this.partitionCount(topic) ?? 0;
        const subscribers = this.members.filter((m) => m.topics.has(topic));
        for (let p = 0; p < n && subscribers.length > 0; p++) {
          let member = this.members[i++ % this.members.length];
          while (!member.topics.has(topic)) member = this.members[i++ % this.members.length];
          result.get(member)!.push({ topic, partition: p });
        }
      }
      return result;
    }
    // Kafka's RangeAssignor: per topic, contiguous ranges in member order. Topics with equal
    // partition counts give the same partition numbers to the same member (co-partitioning).
    for (const topic of sortedTopics) {
      const n = this.partitionCount(topic) ?? 0;
      const subscribers = this.members.filter((m) => m.topics.has(topic));
      const per = Math.floor(n / subscribers.length);
      const extra = n % subscribers.length;
      let p = 0;
      subscribers.forEach((member, i) => {
        const count = per + (i < extra ? 1 : 0);
        for (let j = 0; j < count; j++) result.get(member)!.push({ topic, partition: p++ });
      });
    }
    return result;
  }
}
