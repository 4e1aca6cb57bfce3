/**
 * How the shipper tells files apart: device + inode (survives renames), checked against a
 * fingerprint — the sha1 of the first bytes — so a recycled inode or a file rewritten in place is
 * recognised as new content, and a copy (copytruncate) is recognised as old content.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';

export interface Fingerprint {
  hash: string;
  length: number;
}

/** sha1 of the first `length` bytes (fewer when the file is shorter). */
export async function fingerprintOf(handle: FileHandle, length: number): Promise<Fingerprint> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buf, 0, length, 0);
  return { hash: createHash('sha1').update(buf.subarray(0, bytesRead)).digest('hex'), length: bytesRead };
}

/**
 * A new file generation's id. Random on purpose: it is persisted in the checkpoint before the
 * first record is sent, so re-sends after a restart reuse it, and a truncated-and-rewritten file
 * gets a fresh one (its new lines at old offsets must not collide with the old lines' ids).
 */
export function newFileId(dev: number, ino: number): string {
  return `${dev.toString(36)}-${ino.toString(36)}-${randomBytes(6).toString('hex')}`;
}

/** Where an open file is now (Linux /proc); undefined where that is not available. */
export function currentPathOf(fd: number): string | undefined {
  try {
    const p = readlinkSync(`/proc/self/fd/${fd}`);
    return p.endsWith(' (deleted)') ? undefined : p;
  } catch {
    return undefined;
  }
}

/**
 * The seed's `metadata.service`: the file name without directory, rotation suffixes and
 * extensions — `/var/log/payment-service.log.1` → `payment-service`, `sample_logs/app.log` → `app`.
 */
export function serviceFromPath(path: string): string {
  let name = basename(path);
  name = name.replace(/(\.\d+)+(\.gz)?$/, '').replace(/-\d{8,14}$/, '');
  const dot = name.indexOf('.');
  if (dot > 0) name = name.slice(0, dot);
  return name || 'unknown';
}
