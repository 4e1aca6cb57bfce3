import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { listSchemas, loadSchema } from '../../../topology/serdes/index.ts';

describe('schema files', () => {
  it('every schemas/*.avsc in the repository is a valid Avro schema', () => {
    const names = listSchemas();
    for (const name of names) {
      expect(() => avro.Type.forSchema(loadSchema(name) as avro.Schema), name).not.toThrow();
    }
  });

  it('fails with LF_ERR_SCHEMA_NOT_FOUND for a missing file', () => {
    expect(() => loadSchema('no-such-schema')).toThrow(
      expect.objectContaining({ code: 'LF_ERR_SCHEMA_NOT_FOUND' }),
    );
  });
});
