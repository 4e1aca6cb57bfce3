/**
 * The shipper's checkpoint: per file generation, the byte offset up to which every record was
 * acknowledged by the transport. Written atomically (write a temp file, fsync, rename) so a crash
 * leaves either the old or the new checkpoint, never a torn one. Offsets only move after an
 * acknowledgement, so a restart re-sends at most the unacknowledged tail.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LogFlowError } from '../../common/errors.ts';

export type FileState = 'active' | 'rotated' | 'orphaned' | 'done';

export interface CheckpointEntry {
  /** Identity of this file generation (also inside every record it produced). */
  fileId: string;
  dev: number;
  ino: number;
  /** sha1 (hex) of the file's first `fpLen` bytes when last checked. */
  fpHash: string;
  fpLen: number;
  /** The path the shipper follows (glob match), used as Kafka key and `metadata.file_path`. */
  logicalPath: string;
  /** Where the file was last seen (differs from `logicalPath` after a rename rotation). */
  path: string;
  /** Acknowledged up to here: the next record starts at this byte. */
  offset: number;
  /** active: `logicalPath` is this file; rotated: renamed/deleted, still read to its end;
   * orphaned: truncated under us (a copy may be adopted); done: read, acknowledged and closed. */
  state: FileState;
  discoveredAt: number;
  /**
   * The generation began at `logicalPath` after this moment (when the previous generation was
   * last seen there). Generations rotated away before we saw them are looked for from here.
   * Absent in older checkpoints: `discoveredAt` stands in.
   */
  startedAfter?: number;
  lastAckAt: number | null;
  updatedAt: number;
}

export interface Checkpoint {
  version: 1;
  files: Record<string, CheckpointEntry>;
}

export function readCheckpoint(path: string): Checkpoint {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, files: {} };
    throw new LogFlowError('LF_ERR_SHIPPER_CHECKPOINT', `cannot read checkpoint ${path}`, { cause: err });
  }
  try {
    const parsed = JSON.parse(text) as Checkpoint;
    if (parsed.version !== 1 || typeof parsed.files !== 'object')
      throw new Error('unknown checkpoint version');
    return parsed;
  } catch (err) {
    throw new LogFlowError('LF_ERR_SHIPPER_CHECKPOINT', `checkpoint ${path} is corrupt`, { cause: err });
  }
}

/**
 * Serialises writes: a write requested while one is running is coalesced into one more write of
 * the latest state, so a burst of acknowledgements costs two writes, not hundreds.
 */
export class CheckpointWriter {
  private running: Promise<void> | undefined;
  private again = false;
  private seq = 0;

  constructor(
    readonly path: string,
    private readonly snapshot: () => Checkpoint,
  ) {
    mkdirSync(dirname(path), { recursive: true });
  }

  /** Resolves once a write that started after this call finished. */
  write(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.writeOnce();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async writeOnce(): Promise<void> {
    const tmp = `${this.path}.${process.pid}.${++this.seq}.tmp`;
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(JSON.stringify(this.snapshot(), null, 1));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.path);
  }
}
