/**
 * `logflow ship status`: what the checkpoint says against what is on disk — per file its
 * acknowledged offset, current size, bytes not yet acknowledged and the last acknowledgement.
 */
import { stat } from 'node:fs/promises';
import { type CheckpointEntry, type FileState, readCheckpoint } from './checkpoint.ts';

export interface FileStatus {
  path: string;
  logicalPath: string;
  fileId: string;
  state: FileState;
  offset: number;
  /** Current size, when the file at `path` is still the same inode; otherwise null. */
  size: number | null;
  /** size - offset (null when the file is gone). */
  behind: number | null;
  lastAckAt: number | null;
}

export async function readShipperStatus(checkpointPath: string): Promise<FileStatus[]> {
  const checkpoint = readCheckpoint(checkpointPath);
  const rows: FileStatus[] = [];
  for (const e of Object.values(checkpoint.files)) rows.push(await statusOf(e));
  return rows.sort((a, b) => a.logicalPath.localeCompare(b.logicalPath) || a.path.localeCompare(b.path));
}

async function statusOf(e: CheckpointEntry): Promise<FileStatus> {
  let size: number | null = null;
  try {
    const st = await stat(e.path);
    if (st.dev === e.dev && st.ino === e.ino) size = st.size;
  } catch {
    // gone
  }
  return {
    path: e.path,
    logicalPath: e.logicalPath,
    fileId: e.fileId,
    state: e.state,
    offset: e.offset,
    size,
    behind: size === null ? null : Math.max(0, size - e.offset),
    lastAckAt: e.lastAckAt,
  };
}

export function formatShipperStatus(rows: FileStatus[], now: number = Date.now()): string {
  if (rows.length === 0) return 'no files in the checkpoint yet';
  const header = ['FILE', 'STATE', 'OFFSET', 'SIZE', 'BEHIND', 'LAST ACK'];
  const table = rows.map((r) => [
    r.path === r.logicalPath ? r.path : `${r.logicalPath} (now ${r.path})`,
    r.state,
    String(r.offset),
    r.size === null ? '-' : String(r.size),
    r.behind === null ? '-' : String(r.behind),
    r.lastAckAt === null
      ? 'never'
      : `${new Date(r.lastAckAt).toISOString()} (${Math.round((now - r.lastAckAt) / 1000)}s ago)`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  return [header, ...table]
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
