import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in deploy/services/). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Templates and poms checked into the repository. */
export const TEMPLATES_DIR = join(PROJECT_ROOT, 'deploy', 'services');

/**
 * Everything `logflow services` writes lives under one git-ignored directory:
 * `artifacts/` holds unpacked distributions (the downloads themselves are cached in ~/.m2),
 * `<service>/` holds each service's config, data, pid file and log.
 */
export function servicesHome(env: Record<string, string | undefined> = process.env): string {
  return resolve(env.LOGFLOW_SERVICES_DIR ?? join(PROJECT_ROOT, '.logflow', 'services'));
}

export interface ServicePaths {
  /** The service's own directory: config, data, pid file, log. */
  dir: string;
  log: string;
  pidFile: string;
}

export function servicePaths(home: string, name: string): ServicePaths {
  const dir = join(home, name);
  return { dir, log: join(dir, `${name}.log`), pidFile: join(dir, `${name}.pid`) };
}

export function artifactsDir(home: string): string {
  return join(home, 'artifacts');
}
