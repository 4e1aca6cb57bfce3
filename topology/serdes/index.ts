/**
 * Serdes: how record keys and values become bytes and back. `Serdes.String()`, `Serdes.Json<T>()`,
 * `Serdes.Bytes()` need nothing; `Serdes.Avro<T>({ registry, schema })` speaks the Confluent wire
 * format through a Schema Registry, with schemas from `schemas/*.avsc`.
 */
import { AvroSerde, type AvroSerdeOptions } from './avro-serde.ts';
import { BytesSerde } from './bytes-serde.ts';
import { JsonSerde } from './json-serde.ts';
import { StringSerde } from './string-serde.ts';

export const Serdes = {
  String: (): StringSerde => new StringSerde(),
  Json: <T>(): JsonSerde<T> => new JsonSerde<T>(),
  Bytes: (): BytesSerde => new BytesSerde(),
  Avro: <T>(options: AvroSerdeOptions): AvroSerde<T> => new AvroSerde<T>(options),
};

export {
  AvroSerde,
  type AvroSerdeOptions,
  type SubjectNameStrategy,
  topicNameStrategy,
} from './avro-serde.ts';
export { AvroWireEncoder, decodeAvroBody, HEADER_SIZE, MAGIC_BYTE, readSchemaId } from './avro-wire.ts';
export { BytesSerde } from './bytes-serde.ts';
export { JsonSerde } from './json-serde.ts';
export { listSchemas, loadSchema, SCHEMAS_DIR } from './schema-files.ts';
export { SchemaRegistryClient, type SchemaRegistryClientOptions } from './schema-registry.ts';
export { StringSerde } from './string-serde.ts';
