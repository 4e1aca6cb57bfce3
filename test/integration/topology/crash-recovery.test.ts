import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LongSerde } from '../../../topology/index.ts';
import type { KafkaTransport } from '../../../topology/transport/kafka-transport.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { applicationId, createTopic, kafkaTransport, readAll, waitCaughtUp } from './kafka-helpers.ts';

const APP = fileURLToPath(new URL('./fixtures/counting-app.ts', import.meta.url));
const KEYS = 20;

function startApp(args: string[]): {
  child: ChildProcess;
  running: Promise<void>;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', APP, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const running = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      if (String(d).includes('RUNNING')) resolve();
    });
    void exited.then((code) =>
      reject(new Error(`app exited (${code}) before running: ${stderr.slice(-2000)}`)),
    );
  });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, running, exited };
}

async function produce(transport: KafkaTransport, topic: string, from: number, to: number): Promise<void> {
  const producer = transport.producer();
  await producer.connect();
  const messages = [];
  for (let i = from; i < to; i++) {
    messages.push({ topic, key: Buffer.from(`k${i % KEYS}`), value: Buffer.from(String(i)) });
  }
  await producer.send(messages);
  await producer.disconnect();
}

async function committedTotal(transport: KafkaTransport, group: string, topic: string): Promise<number> {
  return (await transport.committedOffsets(group, topic)).reduce((s, c) => s + c.offset, 0);
}

describe.each(['at_least_once', 'exactly_once'] as const)(
  'kill -9 mid-stream, then restart (%s)',
  (guarantee) => {
    it(
      guarantee === 'exactly_once'
        ? 'loses nothing and produces no duplicate output'
        : 'loses nothing (records may be processed again)',
      async () => {
        const transport = kafkaTransport();
        const input = await createTopic(transport, 3);
        const ids = await createTopic(transport, 3);
        const counts = await createTopic(transport, 3);
        const app = applicationId(transport, 'lf-test-crash');
        const args = [app, input, ids, counts, guarantee, 'instance-1'];

        await produce(transport, input, 0, 3000);
        const first = startApp(args);
        await first.running;
        await waitFor(async () => (await committedTotal(transport, app, input)) > 0, {
          what: 'first progress',
        });

        // More records arrive and the instance dies while processing them.
        await produce(transport, input, 3000, 9000);
        first.child.kill('SIGKILL');
        await first.exited;
        const atKill = await committedTotal(transport, app, input);
        expect(atKill).toBeLessThan(9000); // it really died mid-stream

        await produce(transport, input, 9000, 12_000);
        const second = startApp(args);
        await second.running;
        await waitCaughtUp(transport, app, input);
        second.child.kill('SIGTERM');
        expect(await second.exited).toBe(0);

        const idValues = (await readAll(transport, ids)).map((m) => Number(m.value!.toString()));
        const seen = new Map<number, number>();
        for (const id of idValues) seen.set(id, (seen.get(id) ?? 0) + 1);
        const missing = Array.from({ length: 12_000 }, (_, i) => i).filter((i) => !seen.has(i));
        expect(missing).toEqual([]);

        const longs = new LongSerde();
        const latest = new Map<string, number>();
        const countRecords = (await readAll(transport, counts)).sort(
          (a, b) => a.partition - b.partition || a.offset - b.offset,
        );
        for (const m of countRecords) latest.set(m.key!.toString(), longs.deserialize(counts, m.value));
        expect(latest.size).toBe(KEYS);

        if (guarantee === 'exactly_once') {
          const duplicates = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
          expect(duplicates).toEqual([]);
          expect(idValues).toHaveLength(12_000);
          // The restored state plus the replayed records count every record exactly once.
          for (const [, n] of latest) expect(n).toBe(12_000 / KEYS);
        } else {
          // Nothing lost from the state either (replays may count a record twice).
          for (const [, n] of latest) expect(n).toBeGreaterThanOrEqual(12_000 / KEYS);
        }
      },
    );
  },
);
