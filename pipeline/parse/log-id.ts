import { createHash } from 'node:crypto';
import type { RawLog } from './raw-log.ts';

/**
 * The deterministic id of a record: sha1 over the file generation's identity, the record's byte
 * offset and its text (32 hex chars). The shipper re-sends the unacknowledged tail after a crash
 * with the same file_id and offsets, so the duplicate gets the same id and the stores keep one
 * copy. Records from other producers (no file_id/offset) hash their source, path and time instead.
 */
export function logIdOf(raw: RawLog): string {
  const m = raw.metadata;
  const hash = createHash('sha1');
  if (m.file_id && m.offset !== null && m.offset !== undefined) {
    hash.update(`f\u0000${m.file_id}\u0000${m.offset}\u0000`);
  } else {
    hash.update(`s\u0000${m.source}\u0000${m.file_path}\u0000${m.shipper_timestamp}\u0000`);
  }
  hash.update(raw.raw_log);
  return hash.digest('hex').slice(0, 32);
}
