import { LogFlowError } from '../../common/errors.ts';
import { run } from './processes.ts';
import type { Say } from './service.ts';

/** Whether a Debian package is installed (dpkg -s answers 0 only for an installed package). */
export async function hasPackage(name: string): Promise<boolean> {
  return (await run('dpkg', ['-s', name]).catch(() => ({ code: 1, output: '' }))).code === 0;
}

/**
 * Installs Debian packages that are missing (root only). Tries without refreshing the package
 * lists first, which is fast when they are current, and runs `apt-get update` once if that fails.
 */
export async function ensurePackages(packages: string[], say: Say): Promise<void> {
  const missing: string[] = [];
  for (const name of packages) if (!(await hasPackage(name))) missing.push(name);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new LogFlowError(
      'LF_ERR_SERVICE_UNAVAILABLE',
      `missing Debian packages: ${missing.join(' ')} — install them with: sudo apt-get install ${missing.join(' ')}`,
    );
  }
  say(`apt-get install ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
  let result = await install();
  if (result.code !== 0) {
    await run('apt-get', ['update'], { env });
    result = await install();
  }
  if (result.code !== 0) {
    throw new LogFlowError(
      'LF_ERR_SERVICE_UNAVAILABLE',
      `apt-get install ${missing.join(' ')} failed:\n${result.output.slice(-3000)}`,
    );
  }
}
