import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';

/** Whether a process with this pid exists (signal 0 checks without touching it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else — still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * The pid in `pidFile` when that process is alive AND its command line contains `marker` (a path
 * only our process has on its command line), so a pid the kernel reused for another program is
 * never reported, let alone killed.
 */
export function ownedPid(pidFile: string, marker: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  return cmdline(pid).includes(marker) ? pid : undefined;
}

/** Resident memory of a process in MiB, from /proc (undefined when it is gone). */
export function rssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

export interface DetachedOptions {
  cwd: string;
  log: string;
  pidFile: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a long-running program that outlives this CLI: its own process group, stdout and stderr
 * appended to `log`, its pid written to `pidFile`.
 */
export async function spawnDetached(
  command: string,
  args: string[],
  options: DetachedOptions,
): Promise<number> {
  const fd = openSync(options.log, 'a');
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    const pid = await new Promise<number>((resolvePid, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolvePid(child.pid!));
    });
    child.unref();
    await writeFile(options.pidFile, `${pid}\n`);
    return pid;
  } finally {
    closeSync(fd);
  }
}

export interface RunResult {
  code: number;
  output: string;
}

/** Runs a command to completion, capturing stdout and stderr together (for installers and launchers). */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; log?: string } = {},
): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const fd = options.log ? openSync(options.log, 'a') : undefined;
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    child.once('error', (err) => {
      if (fd !== undefined) closeSync(fd);
      reject(err);
    });
    child.once('close', (code) => {
      if (fd !== undefined) closeSync(fd);
      resolveRun({ code: code ?? 1, output });
    });
  });
}

/**
 * Stops a process we started: SIGTERM, poll until it exits (services flush and close cleanly),
 * SIGKILL after `graceMs`. Removes the pid file.
 */
export async function stopProcess(pid: number, pidFile: string, graceMs = 30_000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited between the check and the kill
    }
  }
  await rm(pidFile, { force: true });
}
