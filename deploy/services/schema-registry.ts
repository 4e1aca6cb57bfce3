import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULTS } from '../../common/config.ts';
import { LogFlowError } from '../../common/errors.ts';
import { pickJdk } from './java.ts';
import { fetchArchive } from './maven.ts';
import { artifactsDir, servicePaths } from './paths.ts';
import { httpOk } from './probes.ts';
import { ownedPid, spawnDetached, stopProcess } from './processes.ts';
import type { ManagedService, Say } from './service.ts';
import { HEAP, JAVA_MIN, VERSIONS } from './versions.ts';

export const REGISTRY_PORT = 8081;
/** Quarkus' management interface (health, metrics); kept on loopback, off the default 0.0.0.0:9000. */
export const REGISTRY_MANAGEMENT_PORT = 9081;

/**
 * Apicurio Registry 3 speaking the Confluent Schema Registry API under /apis/ccompat/v7.
 * Storage is an H2 file in the service directory, so schema ids survive a restart just like the
 * Kafka records that carry them.
 */
export function schemaRegistryService(home: string): ManagedService {
  const paths = servicePaths(home, 'schema-registry');
  const dist = join(artifactsDir(home), `apicurio-registry-${VERSIONS.apicurio}`);
  const dataDir = join(paths.dir, 'data');
  const url = `http://127.0.0.1:${REGISTRY_PORT}/apis/ccompat/v7`;
  if (url !== DEFAULTS.schemaRegistryUrl) {
    // common/config.ts and this file must agree: LOGFLOW_MODE=kafka relies on the defaults.
    throw new LogFlowError(
      'LF_ERR_CONFIG_INVALID',
      `registry URL ${url} differs from the default ${DEFAULTS.schemaRegistryUrl}`,
    );
  }

  return {
    name: 'schema-registry',
    url,
    version: `io.apicurio:apicurio-registry-app:${VERSIONS.apicurio}`,
    logPath: paths.log,
    startTimeoutMs: 120_000,
    healthy: () => httpOk(`${url}/subjects`),
    pid: () => ownedPid(paths.pidFile, dataDir),

    async install(say: Say) {
      say(`schema-registry: fetching Apicurio Registry ${VERSIONS.apicurio}`);
      await fetchArchive(`io.apicurio:apicurio-registry-app:${VERSIONS.apicurio}:tar.gz:all`, dist);
    },

    async start(say: Say) {
      const jdk = pickJdk('schema-registry (Apicurio)', JAVA_MIN.apicurio);
      await mkdir(dataDir, { recursive: true });
      say(`schema-registry: starting on ${url} (Java ${jdk.major})`);
      await spawnDetached(
        jdk.java,
        [
          `-Xmx${HEAP.apicurio}`,
          '-Djava.awt.headless=true',
          '-Dquarkus.http.host=127.0.0.1',
          `-Dquarkus.http.port=${REGISTRY_PORT}`,
          '-Dquarkus.management.host=127.0.0.1',
          `-Dquarkus.management.port=${REGISTRY_MANAGEMENT_PORT}`,
          `-Dapicurio.datasource.url=jdbc:h2:file:${dataDir}/registry`,
          `-Dapicurio.storage.snapshot.location=${dataDir}`,
          // A pool of 20 connections is sized for a server, not for one H2 file on a laptop.
          '-Dapicurio.datasource.jdbc.initial-size=2',
          '-Dapicurio.datasource.jdbc.min-size=2',
          '-Dapicurio.datasource.jdbc.max-size=10',
          // Confluent's registry starts with global compatibility BACKWARD, Apicurio with no rule
          // (the ccompat API then answers NONE); make the default the same. A rule set through
          // the API (PUT /config) still wins.
          '-Dapicurio.rules.global.compatibility=BACKWARD',
          '-jar',
          join(dist, 'quarkus-run.jar'),
        ],
        { cwd: paths.dir, log: paths.log, pidFile: paths.pidFile },
      );
    },

    async stop(say: Say) {
      const pid = ownedPid(paths.pidFile, dataDir);
      if (pid === undefined) return false;
      say(`schema-registry: stopping pid ${pid}`);
      await stopProcess(pid, paths.pidFile);
      return true;
    },
  };
}
