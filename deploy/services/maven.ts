import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LogFlowError } from '../../common/errors.ts';
import { run } from './processes.ts';

/**
 * Fetching from Maven Central through `mvn` (downloads are cached in ~/.m2, so a second project
 * checkout only copies). Each artifact is unpacked into `target` through a temporary directory and
 * marked complete last, so an interrupted fetch is redone instead of half-used.
 */

const COMPLETE = '.complete';

export function isInstalled(target: string): boolean {
  return existsSync(join(target, COMPLETE));
}

async function mvn(args: string[], cwd: string): Promise<void> {
  const result = await run('mvn', ['-B', '-q', ...args], { cwd }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') {
      throw new LogFlowError(
        'LF_ERR_SERVICE_UNAVAILABLE',
        'mvn (Apache Maven) is not installed: apt-get install maven',
      );
    }
    throw err;
  });
  if (result.code !== 0) {
    throw new LogFlowError(
      'LF_ERR_SERVICE_UNAVAILABLE',
      `mvn ${args.join(' ')} failed (exit ${result.code}):\n${result.output.slice(-4000)}`,
    );
  }
}

async function staged(target: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  if (isInstalled(target)) return;
  const tmp = `${target}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
    await writeFile(join(tmp, COMPLETE), new Date().toISOString());
    await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Copies a pom's runtime dependency closure (jars) into `target`. */
export async function copyDependencies(
  pom: string,
  properties: Record<string, string>,
  target: string,
): Promise<void> {
  await staged(target, async (tmp) => {
    const defines = Object.entries(properties).map(([k, v]) => `-D${k}=${v}`);
    await mvn(
      [
        '-f',
        pom,
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${tmp}`,
        ...defines,
      ],
      tmp,
    );
  });
}

/**
 * Downloads one archive (`group:artifact:version:packaging[:classifier]`) and unpacks it with the
 * system's unzip / tar, which keep the executable bits the launch scripts need.
 */
export async function fetchArchive(coordinates: string, target: string): Promise<void> {
  await staged(target, async (tmp) => {
    const download = join(tmp, '.download');
    await mvn(['dependency:copy', `-Dartifact=${coordinates}`, `-DoutputDirectory=${download}`], tmp);
    const [file] = await readdir(download);
    const archive = join(download, file);
    const unpack = file.endsWith('.zip')
      ? await run('unzip', ['-q', archive, '-d', tmp])
      : await run('tar', ['-xzf', archive, '-C', tmp]);
    if (unpack.code !== 0) {
      throw new LogFlowError(
        'LF_ERR_SERVICE_UNAVAILABLE',
        `could not unpack ${file}: ${unpack.output.slice(-2000)}`,
      );
    }
    await rm(download, { recursive: true, force: true });
  });
}
