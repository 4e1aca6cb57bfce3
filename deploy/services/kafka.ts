import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LogFlowError } from '../../common/errors.ts';
import { pickJdk } from './java.ts';
import { copyDependencies } from './maven.ts';
import { artifactsDir, servicePaths, TEMPLATES_DIR } from './paths.ts';
import { kafkaHealthy } from './probes.ts';
import { ownedPid, run, spawnDetached, stopProcess } from './processes.ts';
import type { ManagedService, Say } from './service.ts';
import { renderTemplate } from './templates.ts';
import { HEAP, JAVA_MIN, VERSIONS } from './versions.ts';

export const KAFKA_PORT = 9092;
export const KAFKA_CONTROLLER_PORT = 9093;

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding. Kafka's own generator also
 * avoids a leading '-', which a command line would read as an option.
 */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Apache Kafka in KRaft mode, one node acting as broker and controller, from kafka_2.13's Maven closure. */
export function kafkaService(home: string): ManagedService {
  const paths = servicePaths(home, 'kafka');
  const libs = join(artifactsDir(home), `kafka-${VERSIONS.kafka}`);
  const dataDir = join(paths.dir, 'data');
  const properties = join(paths.dir, 'server.properties');
  const brokers = [`127.0.0.1:${KAFKA_PORT}`];

  return {
    name: 'kafka',
    url: brokers.join(','),
    version: `org.apache.kafka:kafka_2.13:${VERSIONS.kafka}`,
    logPath: paths.log,
    startTimeoutMs: 120_000,
    healthy: () => kafkaHealthy(brokers),
    pid: () => ownedPid(paths.pidFile, properties),

    async install(say: Say) {
      say(`kafka: resolving kafka_2.13 ${VERSIONS.kafka} classpath`);
      await copyDependencies(
        join(TEMPLATES_DIR, 'kafka', 'pom.xml'),
        { 'kafka.version': VERSIONS.kafka, 'log4j.version': VERSIONS.log4j, 'slf4j.version': VERSIONS.slf4j },
        libs,
      );
    },

    async start(say: Say) {
      const jdk = pickJdk('kafka', JAVA_MIN.kafka);
      await mkdir(dataDir, { recursive: true });
      await writeFile(
        properties,
        await renderTemplate('kafka/server.properties', {
          BROKER_PORT: KAFKA_PORT,
          CONTROLLER_PORT: KAFKA_CONTROLLER_PORT,
          DATA_DIR: dataDir,
        }),
      );
      const classpath = `${libs}/*`;
      const logConfig = `-Dlog4j2.configurationFile=${join(TEMPLATES_DIR, 'kafka', 'log4j2.yaml')}`;

      // Format once: the cluster id is kept so a restart finds its own metadata log.
      const idFile = join(paths.dir, 'cluster-id');
      if (!existsSync(join(dataDir, 'meta.properties'))) {
        const id = existsSync(idFile) ? (await readFile(idFile, 'utf8')).trim() : clusterId();
        await writeFile(idFile, `${id}\n`);
        say(`kafka: formatting ${dataDir} (cluster ${id})`);
        const format = await run(
          jdk.java,
          [
            '-cp',
            classpath,
            logConfig,
            'kafka.tools.StorageTool',
            'format',
            '-t',
            id,
            '-c',
            properties,
            '--ignore-formatted',
          ],
          { log: paths.log },
        );
        if (format.code !== 0) {
          throw new LogFlowError(
            'LF_ERR_SERVICE_UNAVAILABLE',
            `kafka storage format failed; see ${paths.log}`,
          );
        }
      }

      say(`kafka: starting on ${brokers[0]} (Java ${jdk.major})`);
      await spawnDetached(
        jdk.java,
        [
          `-Xms${HEAP.kafka}`,
          `-Xmx${HEAP.kafka}`,
          '-XX:+UseG1GC',
          '-XX:MaxGCPauseMillis=20',
          '-Djava.awt.headless=true',
          logConfig,
          '-cp',
          classpath,
          'kafka.Kafka',
          properties,
        ],
        { cwd: paths.dir, log: paths.log, pidFile: paths.pidFile },
      );
    },

    async stop(say: Say) {
      const pid = ownedPid(paths.pidFile, properties);
      if (pid === undefined) return false;
      say(`kafka: stopping pid ${pid}`);
      // A controlled shutdown moves nothing on one node but still flushes logs and snapshots.
      await stopProcess(pid, paths.pidFile, 60_000);
      return true;
    },
  };
}
