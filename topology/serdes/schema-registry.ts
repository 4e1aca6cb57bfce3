/**
 * The Schema Registry as the Avro serdes use it: register a schema under a subject (with the
 * subject's compatibility set to BACKWARD first) and look up writer schemas by id. Every answer is
 * cached for the life of the client, so records never cause HTTP requests once their schema id is
 * known — only the first record of each subject (producing) or schema id (consuming) does.
 *
 * Registration uses @kafkajs/confluent-schema-registry. Compatibility is set through a plain PUT
 * /config/{subject} first because Apicurio's Confluent API answers NONE for a subject that exists
 * without a rule, and the client library then refuses to register.
 */
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro, { type Type } from 'avsc';
import { LogFlowError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';

const log = createLogger('schema-registry');

export interface SchemaRegistryClientOptions {
  /** e.g. `http://127.0.0.1:8081/apis/ccompat/v7` (the Confluent-compatible API root). */
  url: string;
  /** Compatibility set on every subject this client registers to. Default BACKWARD. */
  compatibility?: 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE' | 'FORWARD' | 'NONE';
}

interface HttpError {
  status?: number;
  message?: string;
  code?: string;
}

/** Builds the one LogFlowError for a failed registry call. */
function registryError(action: string, subject: string, err: unknown): LogFlowError {
  const e = err as HttpError & { name?: string };
  if (e?.name === 'ConfluentSchemaRegistryCompatibilityError') {
    return new LogFlowError(
      'LF_ERR_SCHEMA_INCOMPATIBLE',
      `subject "${subject}" has a compatibility level other than the one LogFlow sets: ${e.message}`,
      { cause: err, details: { subject } },
    );
  }
  if (e?.status === 409 || (e?.status === 422 && /compatib/i.test(e.message ?? ''))) {
    return new LogFlowError(
      'LF_ERR_SCHEMA_INCOMPATIBLE',
      `schema for subject "${subject}" breaks its compatibility rule and was not registered: ${e.message}`,
      { cause: err, details: { subject } },
    );
  }
  if (e?.status === 404) {
    return new LogFlowError('LF_ERR_SCHEMA_NOT_FOUND', `${action} "${subject}": not found`, { cause: err });
  }
  const unreachable = e?.status === undefined || e.status >= 500;
  return new LogFlowError(
    unreachable ? 'LF_ERR_SERVICE_UNAVAILABLE' : 'LF_ERR_SERDE_SERIALIZE',
    `Schema Registry ${action} "${subject}" failed: ${e?.message ?? String(err)}`,
    { cause: err, retriable: unreachable },
  );
}

export class SchemaRegistryClient {
  readonly url: string;
  private readonly compatibility: COMPATIBILITY;
  private readonly registry: SchemaRegistry;
  private readonly registered = new Map<string, Promise<number>>();
  private readonly byId = new Map<number, Promise<Type>>();
  private readonly texts = new WeakMap<object, string>();

  constructor(options: SchemaRegistryClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.compatibility = COMPATIBILITY[options.compatibility ?? 'BACKWARD'];
    this.registry = new SchemaRegistry({ host: this.url, clientId: 'logflow' });
  }

  /**
   * Registers `schema` (Avro JSON) under `subject` and resolves to its id; the same schema is
   * registered once per client. Rejects with LF_ERR_SCHEMA_INCOMPATIBLE when the registry refuses
   * it under the subject's compatibility rule.
   */
  register(subject: string, schema: object): Promise<number> {
    let text = this.texts.get(schema);
    if (text === undefined) {
      text = JSON.stringify(schema);
      this.texts.set(schema, text);
    }
    const cacheKey = `${subject}\u0000${text}`;
    let pending = this.registered.get(cacheKey);
    if (!pending) {
      pending = this.doRegister(subject, text);
      // A failed registration is not cached: the next record tries again.
      pending.catch(() => this.registered.delete(cacheKey));
      this.registered.set(cacheKey, pending);
    }
    return pending;
  }

  /** The writer schema registered under `id`, as an avsc type (fetched once per id). */
  typeById(id: number): Promise<Type> {
    let pending = this.byId.get(id);
    if (!pending) {
      pending = this.fetchTypeById(id).catch((err) => {
        this.byId.delete(id);
        throw registryError('lookup of schema id', String(id), err);
      });
      this.byId.set(id, pending);
    }
    return pending;
  }

  /**
   * GET /schemas/ids/{id} with a timeout and a few retries. A plain request rather than the client
   * library's lookup: once, in CI, that lookup never settled although the registry had answered 200,
   * and a consumer must not wait for ever on one schema.
   */
  private async fetchTypeById(id: number): Promise<Type> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(`${this.url}/schemas/ids/${id}`, { signal: AbortSignal.timeout(10_000) });
        if (!res.ok) {
          const body = await res.text().catch(() => '');
          throw Object.assign(new Error(`HTTP ${res.status} ${body.slice(0, 200)}`), { status: res.status });
        }
        const body = (await res.json()) as { schema: string; schemaType?: string };
        if (body.schemaType && body.schemaType !== 'AVRO') {
          throw Object.assign(new Error(`schema ${id} is ${body.schemaType}, not AVRO`), { status: 422 });
        }
        return avro.Type.forSchema(JSON.parse(body.schema));
      } catch (err) {
        const status = (err as { status?: number }).status;
        if ((status !== undefined && status < 500) || attempt >= 3) throw err;
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
  }

  /** Sets the subject's compatibility level. Returns false when the registry does not know the subject yet. */
  async setCompatibility(subject: string, level: string = this.compatibility): Promise<boolean> {
    let res: Response;
    try {
      res = await fetch(`${this.url}/config/${encodeURIComponent(subject)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ compatibility: level }),
      });
    } catch (err) {
      throw registryError('setting compatibility of', subject, err);
    }
    if (res.status === 404) return false;
    if (!res.ok) {
      throw registryError('setting compatibility of', subject, {
        status: res.status,
        message: await res.text(),
      });
    }
    return true;
  }

  private async doRegister(subject: string, schemaText: string): Promise<number> {
    // Set the rule before registering, so an incompatible schema is refused by the registry itself.
    // A registry that does not accept config for unknown subjects gets it right after the first version.
    const configured = await this.setCompatibility(subject);
    let id: number;
    try {
      ({ id } = await this.registry.register(
        { type: SchemaType.AVRO, schema: schemaText },
        { subject, compatibility: this.compatibility },
      ));
    } catch (err) {
      throw registryError('registration under', subject, err);
    }
    if (!configured) await this.setCompatibility(subject);
    log.debug({ subject, id }, 'schema registered');
    return id;
  }
}
