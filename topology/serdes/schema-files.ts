/**
 * Loads Avro schemas from `schemas/*.avsc` (one named schema per file, JSON). Files are read once
 * per process and parsed into plain objects; the serdes build avsc types from them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogFlowError } from '../../common/errors.ts';

/** The repository's `schemas/` folder. */
export const SCHEMAS_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

const cache = new Map<string, object>();

/**
 * The schema in `<dir>/<name>.avsc` (`name` may include the extension), e.g. `loadSchema('logs-raw')`.
 * Throws LF_ERR_SCHEMA_NOT_FOUND for a missing file and LF_ERR_CONFIG_INVALID for bad JSON.
 */
export function loadSchema(name: string, dir: string = SCHEMAS_DIR): object {
  const file = join(dir, name.endsWith('.avsc') ? name : `${name}.avsc`);
  const cached = cache.get(file);
  if (cached) return cached;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LogFlowError('LF_ERR_SCHEMA_NOT_FOUND', `no schema file ${file}`, { cause: err });
  }
  let schema: object;
  try {
    schema = JSON.parse(text) as object;
  } catch (err) {
    throw new LogFlowError('LF_ERR_CONFIG_INVALID', `schema file ${file} is not valid JSON`, { cause: err });
  }
  cache.set(file, schema);
  return schema;
}

/** Names (without `.avsc`) of every schema file in `dir`. */
export function listSchemas(dir: string = SCHEMAS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.avsc'))
    .map((f) => basename(f, '.avsc'))
    .sort();
}
