/**
 * The test helpers clean up after themselves: a topic and an index made in a test are gone once
 * that test has finished, and those made in beforeAll are gone after the file.
 */

import { Client } from '@elastic/elasticsearch';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { createIndex, createTopic, kafkaAdmin } from '../../helpers/services.ts';
import { waitFor } from '../../helpers/wait-for.ts';

describe('helpers register their own cleanup', () => {
  let fileTopic = '';
  let testTopic = '';
  let testIndex = '';

  beforeAll(async () => {
    fileTopic = await createTopic({ prefix: 'lf-smoke-file' });
  });

  it('creates a topic and an index inside a test', async () => {
    testTopic = await createTopic({ prefix: 'lf-smoke-test' });
    testIndex = await createIndex({}, 'lf-smoke-test');
    const admin = await kafkaAdmin();
    expect(await admin.listTopics()).toEqual(expect.arrayContaining([fileTopic, testTopic]));
  });

  it('has removed the previous test resources once that test finished', async () => {
    const admin = await kafkaAdmin();
    await waitFor(async () => !(await admin.listTopics()).includes(testTopic), {
      what: `${testTopic} deleted`,
    });
    expect(await admin.listTopics()).toContain(fileTopic);
    const es = new Client({ node: loadConfig().elasticsearchUrl });
    try {
      expect(await es.indices.exists({ index: testIndex })).toBe(false);
    } finally {
      await es.close();
    }
  });
});
