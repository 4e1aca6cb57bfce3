/**
 * Avro values in the Confluent wire format, with schemas in the Schema Registry under
 * `<topic>-value` (or `<topic>-key` for key serdes).
 *
 * Lifecycle: an AvroSerde registers its schema for a topic on the first `serialize` to that topic
 * and fetches a writer schema on the first record carrying an unknown id; both answers are cached,
 * after which `serialize` and `deserialize` return synchronously (no promise per record).
 * Call `prepare(topics)` before starting to take even those first lookups off the record path.
 *
 * The serde's own schema is the reader schema: records written with an older, compatible schema
 * decode through an avsc resolver (new fields take their defaults).
 */
import avro, { type Resolver, type Type } from 'avsc';
import { LogFlowError } from '../../common/errors.ts';
import type { Serde } from '../serde.ts';
import { AvroWireEncoder, decodeAvroBody, readSchemaId } from './avro-wire.ts';
import { loadSchema } from './schema-files.ts';
import type { SchemaRegistryClient } from './schema-registry.ts';

export type SubjectNameStrategy = (topic: string, isKey: boolean) => string;

/** Confluent's default TopicNameStrategy. */
export const topicNameStrategy: SubjectNameStrategy = (topic, isKey) => `${topic}-${isKey ? 'key' : 'value'}`;

export interface AvroSerdeOptions {
  registry: SchemaRegistryClient;
  /** The schema (Avro JSON object), or the name of a file in `schemas/` (e.g. `logs-parsed`). */
  schema: object | string;
  /** Serde for record keys (subject `<topic>-key`). Default false. */
  isKey?: boolean;
  subjectNameStrategy?: SubjectNameStrategy;
}

type ReaderFor = { resolver: Resolver | undefined } | { error: LogFlowError };

export class AvroSerde<T> implements Serde<T> {
  readonly name: string;
  /** The reader and writer schema as an avsc type. */
  readonly type: Type;
  private readonly schema: object;
  private readonly registry: SchemaRegistryClient;
  private readonly isKey: boolean;
  private readonly subjectFor: SubjectNameStrategy;
  private readonly encoder = new AvroWireEncoder();
  /** Schema id per topic written to; the synchronous fast path of serialize. */
  private readonly idByTopic = new Map<string, number>();
  private readonly pendingByTopic = new Map<string, Promise<number>>();
  /** How to read each writer schema id seen; the synchronous fast path of deserialize. */
  private readonly readers = new Map<number, ReaderFor>();
  private readonly pendingReaders = new Map<number, Promise<ReaderFor>>();

  constructor(options: AvroSerdeOptions) {
    this.schema = typeof options.schema === 'string' ? loadSchema(options.schema) : options.schema;
    try {
      this.type = avro.Type.forSchema(this.schema as avro.Schema);
    } catch (err) {
      throw new LogFlowError('LF_ERR_CONFIG_INVALID', `invalid Avro schema: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.registry = options.registry;
    this.isKey = options.isKey ?? false;
    this.subjectFor = options.subjectNameStrategy ?? topicNameStrategy;
    this.name = `avro(${this.type.name ?? this.type.typeName})`;
  }

  /** Registers the schema for each topic now, so the first records do not wait for the registry. */
  async prepare(topics: string[]): Promise<void> {
    for (const topic of topics) await this.schemaIdFor(topic);
  }

  /** Registers (once) and returns the schema id used when writing to `topic`. */
  schemaIdFor(topic: string): Promise<number> {
    const known = this.idByTopic.get(topic);
    if (known !== undefined) return Promise.resolve(known);
    // Every record of the first batch arrives before the registry answers: they share one request.
    let pending = this.pendingByTopic.get(topic);
    if (!pending) {
      pending = this.registry.register(this.subjectFor(topic, this.isKey), this.schema).then(
        (id) => {
          this.idByTopic.set(topic, id);
          this.pendingByTopic.delete(topic);
          // Our own records need no resolver.
          if (!this.readers.has(id)) this.readers.set(id, { resolver: undefined });
          return id;
        },
        (err) => {
          this.pendingByTopic.delete(topic);
          throw err;
        },
      );
      this.pendingByTopic.set(topic, pending);
    }
    return pending;
  }

  serialize(topic: string, value: T): Buffer | null | Promise<Buffer | null> {
    if (value === null || value === undefined) return null;
    const id = this.idByTopic.get(topic);
    if (id !== undefined) return this.encode(id, value);
    return this.schemaIdFor(topic).then((registered) => this.encode(registered, value));
  }

  deserialize(topic: string, data: Buffer | null): T | Promise<T> {
    if (data === null) return null as T;
    const id = readSchemaId(data);
    const reader = this.readers.get(id);
    if (reader !== undefined) return this.decode(reader, data);
    let pending = this.pendingReaders.get(id);
    if (!pending) {
      pending = this.loadWriter(id, topic).finally(() => this.pendingReaders.delete(id));
      this.pendingReaders.set(id, pending);
    }
    return pending.then((loaded) => this.decode(loaded, data));
  }

  private encode(id: number, value: T): Buffer {
    try {
      return this.encoder.encode(id, this.type, value);
    } catch (err) {
      throw new LogFlowError(
        'LF_ERR_SERDE_SERIALIZE',
        `value does not match Avro schema ${this.type.name}: ${this.invalidPaths(value) || (err as Error).message}`,
        { cause: err },
      );
    }
  }

  private decode(reader: ReaderFor, data: Buffer): T {
    if ('error' in reader) throw reader.error;
    return decodeAvroBody<T>(data, this.type, reader.resolver);
  }

  private async loadWriter(id: number, topic: string): Promise<ReaderFor> {
    let writer: Type;
    try {
      writer = await this.registry.typeById(id);
    } catch (err) {
      // An unknown id is a bad record; an unreachable registry is not (it must not be dead-lettered).
      if (err instanceof LogFlowError && err.code === 'LF_ERR_SCHEMA_NOT_FOUND') {
        const error = new LogFlowError(
          'LF_ERR_SERDE_DESERIALIZE',
          `record on ${topic} names schema id ${id}, which the registry does not know`,
          { cause: err },
        );
        this.readers.set(id, { error });
        return { error };
      }
      throw err;
    }
    let reader: ReaderFor;
    if (writer.equals(this.type)) {
      reader = { resolver: undefined };
    } else {
      try {
        reader = { resolver: this.type.createResolver(writer) };
      } catch (err) {
        reader = {
          error: new LogFlowError(
            'LF_ERR_SERDE_DESERIALIZE',
            `records on ${topic} written with schema id ${id} cannot be read as ${this.type.name}: ${(err as Error).message}`,
            { cause: err },
          ),
        };
      }
    }
    this.readers.set(id, reader);
    return reader;
  }

  private invalidPaths(value: unknown): string {
    const paths: string[] = [];
    try {
      this.type.isValid(value, {
        errorHook: (path, v) =>
          paths.push(`${path.join('.') || '(root)'}=${JSON.stringify(v) ?? 'undefined'}`),
      });
    } catch {
      // isValid itself may throw on exotic values; the original error message is used then.
    }
    return paths.length ? `invalid field(s) ${paths.join(', ')}` : '';
  }
}
