/**
 * A stable identity for each process of a stage, so that under exactly-once a restarted process
 * reuses its predecessor's transactional id and fences it at once — instead of every read-committed
 * consumer downstream waiting for the dead process's open transaction to time out.
 *
 * Like Kafka Streams' process id kept in its state directory: the id is `<host>-<slot>`, where the
 * slot is the lowest one in `<dataDir>/instances/` not held by a live process. Two processes of the
 * same stage on one host get different slots; a process that restarts after a crash finds its
 * predecessor's pid dead and takes the same slot back.
 */
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims a slot for `applicationId`; the claim is released when this process exits. */
export function claimInstanceId(dataDir: string, applicationId: string): string {
  const dir = join(dataDir, 'instances');
  mkdirSync(dir, { recursive: true });
  for (let slot = 0; slot < 1024; slot++) {
    const file = join(dir, `${applicationId}-${slot}.pid`);
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
    } catch {
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (holder !== process.pid && alive(holder)) continue;
      writeFileSync(file, String(process.pid));
    }
    process.once('exit', () => {
      try {
        if (Number(readFileSync(file, 'utf8').trim()) === process.pid) unlinkSync(file);
      } catch {
        // Already gone: nothing to release.
      }
    });
    return `${hostname()}-${slot}`;
  }
  throw new Error(`more than 1024 live processes of ${applicationId} share ${dataDir}`);
}
