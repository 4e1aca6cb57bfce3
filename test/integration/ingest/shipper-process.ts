/**
 * `logflow ship` as a child process a test can kill -9 and restart, and what its checkpoint says.
 * Shared by the shipper-on-Kafka test and the end-to-end chain test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');

export interface ShipperOptions {
  file: string;
  checkpoint: string;
  topic: string;
  logLevel?: string;
  /** Receives the child's stderr (it is always drained, so the child never blocks on a full pipe). */
  onStderr?: (chunk: string) => void;
}

export function spawnShipper({
  file,
  checkpoint,
  topic,
  logLevel = 'warn',
  onStderr,
}: ShipperOptions): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/logflow.js'),
      'ship',
      file,
      '--checkpoint',
      checkpoint,
      '--topic',
      topic,
      '--poll-ms',
      '20',
    ],
    { cwd: ROOT, env: { ...process.env, LOG_LEVEL: logLevel }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.on('data', (d) => onStderr?.(String(d)));
  return child;
}

export const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => child.once('exit', () => r()));

/** Sum of the acknowledged offsets in a shipper checkpoint (0 before the first write). */
export function ackedBytes(checkpoint: string): number {
  try {
    const cp = JSON.parse(readFileSync(checkpoint, 'utf8'));
    return Object.values(cp.files as Record<string, { offset: number }>).reduce((s, e) => s + e.offset, 0);
  } catch {
    return 0;
  }
}
