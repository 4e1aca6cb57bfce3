import { LogFlowError } from '../../../common/errors.ts';
import type {
  OutgoingMessage,
  Producer,
  ProducerOptions,
  RecordAck,
  TopicPartitionOffset,
  Transaction,
} from '../transport.ts';

/** What a producer needs from the transport that owns it. */
export interface ProducerHost {
  append(messages: OutgoingMessage[], roundRobin: { next: number }, wantAcks: boolean): RecordAck[];
  commitOffsets(groupId: string, offsets: TopicPartitionOffset[]): void;
  /** Registers a transactional id and returns its new epoch, fencing older producers. */
  claimTransactionalId(id: string): number;
  currentEpoch(id: string): number | undefined;
}

/**
 * A memory producer. `send` appends synchronously and resolves with the acks (a memory write is
 * acknowledged once appended). A transactional producer buffers a transaction's messages and
 * offsets and applies them atomically at `commit`, so read-committed consumers never see a
 * message of an open or aborted transaction. A newer producer with the same `transactionalId`
 * fences this one: its next `commit` fails, as a zombie's would on Kafka.
 */
export class MemoryProducer implements Producer {
  private readonly roundRobin = { next: 0 };
  private epoch: number | undefined;
  private open: MemoryTransaction | null = null;
  private connected = false;

  constructor(
    private readonly host: ProducerHost,
    private readonly options: ProducerOptions = {},
  ) {}

  async connect(): Promise<void> {
    this.connected = true;
    if (this.options.transactionalId)
      this.epoch = this.host.claimTransactionalId(this.options.transactionalId);
  }

  async send(messages: OutgoingMessage[]): Promise<RecordAck[]> {
    return this.host.append(messages, this.roundRobin, true);
  }

  async transaction(): Promise<Transaction> {
    const id = this.options.transactionalId;
    if (!id)
      throw new LogFlowError(
        'LF_ERR_CONFIG_INVALID',
        'transaction() needs a producer with a transactionalId',
      );
    if (!this.connected) await this.connect();
    if (this.open) {
      throw new LogFlowError(
        'LF_ERR_TRANSPORT_UNAVAILABLE',
        `producer ${id} already has an open transaction`,
      );
    }
    this.open = new MemoryTransaction(this, () => {
      this.open = null;
    });
    return this.open;
  }

  async disconnect(): Promise<void> {
    if (this.open) await this.open.abort();
    this.connected = false;
  }

  /** @internal */
  applyTransaction(messages: OutgoingMessage[], offsets: Map<string, TopicPartitionOffset[]>): void {
    const id = this.options.transactionalId!;
    if (this.host.currentEpoch(id) !== this.epoch) {
      throw new LogFlowError(
        'LF_ERR_TRANSPORT_UNAVAILABLE',
        `producer ${id} was fenced by a newer instance`,
        {
          retriable: false,
        },
      );
    }
    this.host.append(messages, this.roundRobin, false);
    for (const [groupId, list] of offsets) this.host.commitOffsets(groupId, list);
  }
}

class MemoryTransaction implements Transaction {
  private messages: OutgoingMessage[] = [];
  private readonly offsets = new Map<string, TopicPartitionOffset[]>();
  private finished = false;

  constructor(
    private readonly producer: MemoryProducer,
    private readonly onFinish: () => void,
  ) {}

  async send(messages: OutgoingMessage[]): Promise<void> {
    this.assertOpen();
    if (this.messages.length === 0) this.messages = messages.slice();
    else for (const m of messages) this.messages.push(m);
  }

  async sendOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    this.assertOpen();
    const list = this.offsets.get(groupId) ?? [];
    list.push(...offsets);
    this.offsets.set(groupId, list);
  }

  async commit(): Promise<void> {
    this.assertOpen();
    this.finished = true;
    this.onFinish();
    this.producer.applyTransaction(this.messages, this.offsets);
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.onFinish();
  }

  private assertOpen(): void {
    if (this.finished) throw new LogFlowError('LF_ERR_TRANSPORT_UNAVAILABLE', 'transaction already finished');
  }
}
