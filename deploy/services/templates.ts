import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LogFlowError } from '../../common/errors.ts';
import { TEMPLATES_DIR } from './paths.ts';

/**
 * Reads a config template from deploy/services/ and fills its `@NAME@` placeholders. A placeholder
 * without a value is an error: a half-rendered config would start a service that misbehaves later.
 */
export async function renderTemplate(
  relativePath: string,
  values: Record<string, string | number>,
): Promise<string> {
  const text = await readFile(join(TEMPLATES_DIR, relativePath), 'utf8');
  return text.replace(/@([A-Z_]+)@/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) {
      throw new LogFlowError('LF_ERR_CONFIG_INVALID', `template ${relativePath} needs a value for @${name}@`);
    }
    return String(value);
  });
}
