import { LogFlowError } from '../../common/errors.ts';
import type { Serde } from '../serde.ts';

/** JSON documents as UTF-8. Null stays null; bytes that are not JSON fail with LF_ERR_SERDE_DESERIALIZE. */
export class JsonSerde<T> implements Serde<T> {
  readonly name = 'json';

  serialize(_topic: string, value: T): Buffer | null {
    if (value === null || value === undefined) return null;
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw new LogFlowError(
        'LF_ERR_SERDE_SERIALIZE',
        `value is not JSON-serialisable: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    if (text === undefined) {
      throw new LogFlowError('LF_ERR_SERDE_SERIALIZE', `a ${typeof value} has no JSON form`);
    }
    return Buffer.from(text, 'utf8');
  }

  deserialize(topic: string, data: Buffer | null): T {
    if (data === null) return null as T;
    try {
      return JSON.parse(data.toString('utf8')) as T;
    } catch (err) {
      throw new LogFlowError(
        'LF_ERR_SERDE_DESERIALIZE',
        `record on ${topic} is not JSON: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}
