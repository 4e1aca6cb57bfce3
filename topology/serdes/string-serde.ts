import { LogFlowError } from '../../common/errors.ts';
import type { Serde } from '../serde.ts';

/** UTF-8 strings. Null stays null (tombstones and keyless records). */
export class StringSerde implements Serde<string> {
  readonly name = 'string';

  serialize(_topic: string, value: string): Buffer | null {
    if (value === null || value === undefined) return null;
    if (typeof value !== 'string') {
      throw new LogFlowError('LF_ERR_SERDE_SERIALIZE', `string serde got a ${typeof value}`);
    }
    return Buffer.from(value, 'utf8');
  }

  deserialize(_topic: string, data: Buffer | null): string {
    return data === null ? (null as unknown as string) : data.toString('utf8');
  }
}
