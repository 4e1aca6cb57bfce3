import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogFlowError } from '../../common/errors.ts';

export interface Jdk {
  home: string;
  java: string;
  major: number;
}

const JVM_ROOT = '/usr/lib/jvm';

/** The feature release of a JDK from its `release` file (JAVA_VERSION="17.0.15" → 17, "1.8.0" → 8). */
function majorOf(home: string): number | undefined {
  const release = join(home, 'release');
  if (!existsSync(release)) return undefined;
  const match = /^JAVA_VERSION="([0-9.]+)/m.exec(readFileSync(release, 'utf8'));
  if (!match) return undefined;
  const parts = match[1].split('.').map(Number);
  return parts[0] === 1 ? parts[1] : parts[0];
}

/** Every JDK under /usr/lib/jvm (Debian's OpenJDK and the Temurin JDK), plus LOGFLOW_JAVA_HOME. */
export function installedJdks(env: Record<string, string | undefined> = process.env): Jdk[] {
  const homes = new Set<string>();
  if (env.LOGFLOW_JAVA_HOME) homes.add(env.LOGFLOW_JAVA_HOME);
  if (existsSync(JVM_ROOT)) {
    for (const entry of readdirSync(JVM_ROOT)) homes.add(join(JVM_ROOT, entry));
  }
  const jdks: Jdk[] = [];
  const seen = new Set<number>();
  for (const home of homes) {
    const java = join(home, 'bin', 'java');
    const major = majorOf(home);
    if (major === undefined || !existsSync(java) || seen.has(major)) continue;
    seen.add(major);
    jdks.push({ home, java, major });
  }
  return jdks.sort((a, b) => a.major - b.major);
}

/**
 * The lowest installed JDK whose feature release is at least `min`: the oldest JDK a service
 * supports is the one its release was tested on most.
 */
export function pickJdk(service: string, min: number): Jdk {
  const jdk = installedJdks().find((j) => j.major >= min);
  if (!jdk) {
    const found = installedJdks()
      .map((j) => `${j.major} (${j.home})`)
      .join(', ');
    throw new LogFlowError(
      'LF_ERR_SERVICE_UNAVAILABLE',
      `${service} needs Java ${min} or newer; found ${found || 'none'} under ${JVM_ROOT}. ` +
        'Install a JDK there or point LOGFLOW_JAVA_HOME at one.',
    );
  }
  return jdk;
}
