/**
 * docker-compose.yml cannot run on the development machines (no Docker engine), so this keeps it
 * honest another way: the images it names are the versions `logflow services` runs, and it
 * publishes the same host ports that common/config.ts defaults to.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../common/config.ts';
import { PROJECT_ROOT } from '../../../deploy/services/paths.ts';
import { VERSIONS } from '../../../deploy/services/versions.ts';

const compose = readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8');

describe('docker-compose.yml matches logflow services', () => {
  it('runs the pinned versions', () => {
    expect(compose).toContain(`image: apache/kafka:${VERSIONS.kafka}\n`);
    expect(compose).toContain(`image: apicurio/apicurio-registry:${VERSIONS.apicurio}\n`);
    expect(compose).toContain(
      `image: docker.elastic.co/elasticsearch/elasticsearch:${VERSIONS.elasticsearch}\n`,
    );
    // Kibana must match Elasticsearch exactly.
    expect(compose).toContain(`image: docker.elastic.co/kibana/kibana:${VERSIONS.elasticsearch}\n`);
  });

  it('publishes the default URLs on loopback', () => {
    const port = (url: string) => new URL(url).port;
    const published = [...compose.matchAll(/- "127\.0\.0\.1:(\d+):\d+"/g)].map((m) => m[1]);
    expect(published).toEqual(
      expect.arrayContaining([
        DEFAULTS.kafkaBrokers.split(':')[1],
        port(DEFAULTS.schemaRegistryUrl),
        port(DEFAULTS.elasticsearchUrl),
        port(DEFAULTS.databaseUrl),
        port(DEFAULTS.redisUrl),
      ]),
    );
    // The registry path is the Confluent-compatible API of Apicurio in both setups.
    expect(new URL(DEFAULTS.schemaRegistryUrl).pathname).toBe('/apis/ccompat/v7');
    expect(compose).toContain('KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false"');
  });
});
