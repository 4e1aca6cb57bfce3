/**
 * `npm run bench -- ingest [--events N] [--files F] [--partitions P] [--latency-seconds S]
 *                          [--latency-rate R] [--ceiling-docs D] [--sqlite-docs Q] [--skip-e2e]`
 *
 * Issue 4's ingest figures, in one run, on this machine, with the local services:
 * 1. end to end, file → searchable in Elasticsearch: F files holding N generated events (seed text
 *    format, level mix, stack traces) are shipped → logs-raw → parse → logs-parsed → Elasticsearch
 *    sink, each stage its own process (as `logflow run <stage>`), on random topics and a random
 *    index prefix; throughput is searchable documents (`_count`) per second;
 * 2. latency append → bulk-acknowledged at a fixed R events/s (default 5,000) for S seconds, on
 *    the same running pipeline (each appended line carries its append time as `bench_t=`);
 * 3. Elasticsearch bytes per log after a force-merge to one segment (the documents of 1 and 2);
 * 4. the raw Elasticsearch bulk rate of the same kind of documents (pre-serialised, 2 requests in
 *    flight) — the ceiling for 1;
 * 5. the embedded store: the same documents indexed into SQLite (FTS5) in batches.
 * Prints a table and writes bench/results/ingest-<date>.json. Everything it creates is removed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { loadConfig, type PipelineTopics } from '../common/config.ts';
import { putLogIndexTemplate } from '../connectors/elasticsearch/index-template.ts';
import { dailyIndexName, toEsSource } from '../connectors/elasticsearch/log-document.ts';
import { createLogFactory, formatText } from '../pipeline/generator/index.ts';
import { parseRawLog } from '../pipeline/parse/parse-raw-log.ts';
import { SqliteLogStore } from '../storage/logs/sqlite-store.ts';
import type { ParsedLog } from '../storage/logs/types.ts';
import { KafkaTransport } from '../topology/transport/kafka-transport.ts';
import type { StageArgs } from './ingest-stage.ts';
import { printTable, writeResults } from './results.ts';

export const description =
  'ingest: file → searchable in Elasticsearch (≥ 2 min), append→ack latency at 5k/s, ES bytes/log, raw bulk ceiling, SQLite rate';

const STAGE_SCRIPT = fileURLToPath(new URL('./ingest-stage.ts', import.meta.url));

interface StageProcess {
  child: ChildProcess;
  last: Record<string, unknown>;
  /** CPU time (µs) the process had used when it reported itself started. */
  startCpuUs?: number;
  final: Promise<Record<string, unknown>>;
}

/**
 * `LOGFLOW_BENCH_CPU_PROF=<dir>` writes a V8 CPU profile of each stage process into <dir>
 * (`<dir>/<role>/CPU.….cpuprofile`, the largest is the main thread; open it in Chrome DevTools or
 * summarise it with bench/ingest-profile.ts).
 */
function profileFlags(role: string): string[] {
  const dir = process.env.LOGFLOW_BENCH_CPU_PROF;
  // One directory per stage: tsx's loader thread writes a profile of its own beside the main one.
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, role)}`] : [];
}

function startStage(role: string, args: StageArgs): Promise<StageProcess> {
  const nodeArgs = [
    ...profileFlags(role),
    '--max-semi-space-size=64',
    '--import',
    'tsx',
    STAGE_SCRIPT,
    role,
    JSON.stringify(args),
  ];
  const child = spawn(process.execPath, nodeArgs, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  });
  const proc: StageProcess = { child, last: {}, final: Promise.resolve({}) };
  let resolveFinal!: (v: Record<string, unknown>) => void;
  proc.final = new Promise((r) => {
    resolveFinal = r;
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      resolveFinal(proc.last);
      reject(new Error(`${role} stage exited with ${code} before starting`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      proc.last = msg;
      if (msg.started) {
        proc.startCpuUs = Number(msg.cpuUs ?? 0);
        resolve(proc);
      }
      if (msg.final) resolveFinal(msg);
    });
  });
}

async function stopStage(proc: StageProcess | undefined): Promise<Record<string, unknown>> {
  if (!proc || proc.child.exitCode !== null) return proc?.last ?? {};
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 30_000);
  const final = await proc.final;
  clearTimeout(timer);
  return final;
}

/** Writes `events` generated events (seed text format) into `files` files; returns event count. */
async function writeEventFiles(paths: string[], events: number, seed: number): Promise<number> {
  const factory = createLogFactory({ seed });
  const streams = paths.map((p) => createWriteStream(p));
  const start = Date.now();
  const per = Math.ceil(events / paths.length);
  let written = 0;
  for (let f = 0; f < paths.length; f++) {
    let chunk = '';
    for (let i = 0; i < per && written < events; i++, written++) {
      chunk += formatText(factory.next(start + written));
      if (chunk.length > 1 << 20) {
        if (!streams[f].write(chunk)) await once(streams[f], 'drain');
        chunk = '';
      }
    }
    streams[f].end(chunk);
    await once(streams[f], 'close');
  }
  return written;
}

/** The same kind of documents, made in-process (generator → text line → parseRawLog). */
function makeParsedLogs(count: number, seed: number): ParsedLog[] {
  const factory = createLogFactory({ seed });
  const now = Date.now();
  const out: ParsedLog[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const text = formatText(factory.next(now + i));
    const raw = text.endsWith('\n') ? text.slice(0, -1) : text;
    out.push(
      parseRawLog(
        {
          raw_log: raw,
          metadata: {
            source: 'bench-host',
            file_path: '/var/log/bench/app.log',
            shipper_timestamp: now,
            service: 'bench',
            file_id: `bench-${seed}`,
            offset,
          },
        },
        now + i,
      ),
    );
    offset += Buffer.byteLength(text);
  }
  return out;
}

/**
 * Bytes per document on disk once merged. Waits past the retention-lease sync (30 s) first: the
 * `_recovery_source` kept for documents newer than the lease (the template leaves `id` and
 * `sort_key` out of `_source`) is dropped at that merge, as it is for any index older than a minute.
 */
async function mergedBytesPerLog(
  client: Client,
  pattern: string,
): Promise<{ docs: number; bytes: number; bytesPerLog: number }> {
  await client.indices.refresh({ index: pattern });
  await client.indices.flush({ index: pattern });
  await new Promise((r) => setTimeout(r, 45_000));
  await client.indices.forcemerge({ index: pattern, max_num_segments: 1 });
  const stats = await client.indices.stats({ index: pattern, metric: ['store', 'docs'] });
  const bytes = stats._all.primaries?.store?.size_in_bytes ?? 0;
  const docs = stats._all.primaries?.docs?.count ?? 1;
  return { docs, bytes, bytesPerLog: bytes / docs };
}

/** Busy and total CPU time of the whole machine so far (ms, from /proc/stat; zeros elsewhere). */
function machineCpuMs(): { busy: number; total: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = fields[3] + (fields[4] ?? 0);
    const tick = 10; // USER_HZ is 100 on Linux
    return { busy: (total - idle) * tick, total: total * tick };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** Searchable documents, or -1 while Elasticsearch does not answer (a teammate's outage test). */
async function searchable(client: Client, prefix: string): Promise<number> {
  try {
    const r = await client.count({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    return r.count;
  } catch {
    return -1;
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string', default: '3000000' },
      files: { type: 'string', default: '4' },
      partitions: { type: 'string', default: '4' },
      'latency-seconds': { type: 'string', default: '30' },
      'latency-rate': { type: 'string', default: '5000' },
      'ceiling-docs': { type: 'string', default: '500000' },
      'sqlite-docs': { type: 'string', default: '500000' },
      'skip-e2e': { type: 'boolean', default: false },
    },
  });
  const events = Number(values.events);
  const fileCount = Number(values.files);
  const partitions = Number(values.partitions);
  const latencySeconds = Number(values['latency-seconds']);
  const latencyRate = Number(values['latency-rate']);
  const ceilingDocs = Number(values['ceiling-docs']);
  const sqliteDocs = Number(values['sqlite-docs']);

  const config = loadConfig();
  const client = new Client({ node: config.elasticsearchUrl, requestTimeout: 600_000 });
  const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const prefix = `lfbench-${runId}`;
  const ceilingPrefix = `lfbench-ceiling-${runId}`;
  const topics: PipelineTopics = {
    raw: `bench-raw-${runId}`,
    parsed: `bench-parsed-${runId}`,
    metrics: `bench-metrics-${runId}`,
    alerts: `bench-alerts-${runId}`,
    deadLetter: `bench-dlq-${runId}`,
  };
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-ingest-'));
  const transport = new KafkaTransport({ clientId: `bench-ingest-${runId}` });
  const results: Record<string, unknown> = { runId, loadavgBefore: loadavg() };
  const stages: Record<string, StageProcess | undefined> = {};
  const progress = (msg: string) => console.error(`[bench ingest] ${msg}`);

  try {
    // ── 1 + 2: end to end, then latency at a fixed rate, on one running pipeline ───────────────
    if (!values['skip-e2e']) {
      const files = Array.from({ length: fileCount }, (_, i) => join(dir, `app-${i}.log`));
      progress(`writing ${events.toLocaleString()} events into ${fileCount} files…`);
      const written = await writeEventFiles(files, events, 42);
      const bytes = files.reduce((n, f) => n + statSync(f).size, 0);
      progress(`${(bytes / 1e6).toFixed(0)} MB written; creating topics and template`);
      await transport.ensureTopics([
        { name: topics.raw, partitions },
        { name: topics.parsed, partitions },
        { name: topics.deadLetter, partitions: 1 },
      ]);
      await putLogIndexTemplate(client, prefix);
      const args: StageArgs = {
        run: runId,
        topics,
        files: join(dir, 'app-*.log'),
        dataDir: dir,
        indexPrefix: prefix,
        partitions,
      };
      stages.sink = await startStage('sink', args);
      stages.parse = await startStage('parse', args);
      const started = Date.now();
      const cpuBefore = machineCpuMs();
      stages.ship = await startStage('ship', args);
      progress('pipeline started (ship, parse, sink processes); waiting for every event to be searchable');
      const timeline: { t: number; count: number }[] = [];
      let lastGrowth = Date.now();
      let count = 0;
      for (;;) {
        await new Promise((r) => setTimeout(r, 1_000));
        const c = await searchable(client, prefix);
        if (c < 0) {
          progress('Elasticsearch is not answering; the sink pauses and retries, the bench waits');
          lastGrowth = Date.now();
          continue;
        }
        if (c > count) lastGrowth = Date.now();
        count = c;
        timeline.push({ t: Date.now() - started, count });
        if (timeline.length % 10 === 0) {
          progress(`${((Date.now() - started) / 1000).toFixed(0)} s: ${count.toLocaleString()} searchable`);
        }
        if (count >= written || Date.now() - lastGrowth > 30_000) break;
      }
      const doneAt = timeline.findIndex((p) => p.count >= count);
      const elapsed = timeline[doneAt].t / 1000;
      // Steady state: from 10 % to 90 % of the documents (excludes start-up and the tail).
      const p10 = timeline.find((p) => p.count >= count * 0.1)!;
      const p90 = timeline.find((p) => p.count >= count * 0.9)!;
      // CPU per searchable log during the run: each stage process, and the rest of the machine
      // (Kafka, Elasticsearch, the registry — and whatever else runs on the shared box).
      const cpuAfter = machineCpuMs();
      const perLogUs = (ms: number) => Math.round((ms * 1000) / Math.max(1, count));
      const stageCpuMs = Object.fromEntries(
        (['ship', 'parse', 'sink'] as const).map((r) => {
          const s = stages[r]!;
          return [r, (Number(s.last.cpuUs ?? 0) - (s.startCpuUs ?? 0)) / 1000];
        }),
      );
      const stagesMs = Object.values(stageCpuMs).reduce((a, b) => a + b, 0);
      const machineMs = cpuAfter.busy - cpuBefore.busy;
      const cpuPerLogUs = {
        ...Object.fromEntries(Object.entries(stageCpuMs).map(([r, ms]) => [r, perLogUs(ms)])),
        restOfMachine: perLogUs(machineMs - stagesMs),
        machine: perLogUs(machineMs),
        machineBusyShare: Number((machineMs / Math.max(1, cpuAfter.total - cpuBefore.total)).toFixed(2)),
      };
      progress(`CPU µs per log: ${JSON.stringify(cpuPerLogUs)}`);
      results.endToEnd = {
        cpuPerLogUs,
        events: written,
        fileBytes: bytes,
        searchable: count,
        missing: written - count,
        seconds: elapsed,
        logsPerSecond: count / elapsed,
        steadyLogsPerSecond: ((p90.count - p10.count) * 1000) / Math.max(1, p90.t - p10.t),
        timeline,
      };

      progress(`latency: appending ${latencyRate}/s for ${latencySeconds} s`);
      const factory = createLogFactory({ seed: 7 });
      const latencyStart = Date.now();
      let appended = 0;
      while (Date.now() - latencyStart < latencySeconds * 1000) {
        const due = Math.floor(((Date.now() - latencyStart) * latencyRate) / 1000) - appended;
        let chunk = '';
        for (let i = 0; i < due; i++) {
          const now = Date.now();
          const text = formatText(factory.next(now));
          const nl = text.indexOf('\n');
          chunk += `${text.slice(0, nl)} bench_t=${now}${text.slice(nl)}`;
        }
        if (chunk) appendFileSync(files[appended % files.length], chunk);
        appended += Math.max(0, due);
        await new Promise((r) => setTimeout(r, 5));
      }
      const target = count + appended;
      const waitStart = Date.now();
      while ((await searchable(client, prefix)) < target && Date.now() - waitStart < 60_000) {
        await new Promise((r) => setTimeout(r, 500));
      }
      const sinkFinal = await stopStage(stages.sink);
      const shipFinal = await stopStage(stages.ship);
      await stopStage(stages.parse);
      const lat = (sinkFinal.latency ?? {}) as {
        count?: number;
        p50Ms?: number;
        p90Ms?: number;
        p99Ms?: number;
        maxMs?: number;
        hops?: Record<string, { p50Ms: number; p99Ms: number }>;
      };
      results.latency = {
        rate: latencyRate,
        seconds: latencySeconds,
        appended,
        measured: lat.count ?? 0,
        p50Ms: lat.p50Ms ?? Number.NaN,
        p90Ms: lat.p90Ms ?? Number.NaN,
        p99Ms: lat.p99Ms ?? Number.NaN,
        maxMs: lat.maxMs ?? Number.NaN,
        hops: lat.hops,
      };
      if (lat.hops) progress(`latency per hop (ms): ${JSON.stringify(lat.hops)}`);
      results.sinkStats = { ...sinkFinal, latency: undefined };
      results.shipperStats = shipFinal;

      progress('force-merging to one segment to measure bytes per log');
      results.storage = await mergedBytesPerLog(client, `${prefix}-*`);
    }

    // ── 4: raw Elasticsearch bulk ceiling on the same kind of documents ──────────────────────
    progress(`ceiling: generating ${ceilingDocs.toLocaleString()} documents`);
    const logs = makeParsedLogs(Math.max(ceilingDocs, sqliteDocs), 99);
    const bulks: string[][] = [];
    for (let i = 0; i < ceilingDocs; i += 5_000) {
      const lines: string[] = [];
      for (const log of logs.slice(i, Math.min(ceilingDocs, i + 5_000))) {
        lines.push(
          JSON.stringify({ create: { _index: dailyIndexName(ceilingPrefix, log.timestamp), _id: log.id } }),
        );
        lines.push(JSON.stringify(toEsSource(log)));
      }
      bulks.push(lines);
    }
    await putLogIndexTemplate(client, ceilingPrefix);
    progress('ceiling: bulk-indexing (2 requests in flight)');
    const ceilingStart = performance.now();
    let next = 0;
    let errors = 0;
    await Promise.all(
      [0, 1].map(async () => {
        while (next < bulks.length) {
          const r = await client.bulk({ operations: bulks[next++] });
          if (r.errors) errors += r.items.filter((it) => (Object.values(it)[0]?.status ?? 0) >= 300).length;
        }
      }),
    );
    const ceilingSeconds = (performance.now() - ceilingStart) / 1000;
    results.bulkCeiling = {
      docs: ceilingDocs,
      seconds: ceilingSeconds,
      logsPerSecond: ceilingDocs / ceilingSeconds,
      errors,
    };
    if (values['skip-e2e']) {
      results.storage = {
        ...(await mergedBytesPerLog(client, `${ceilingPrefix}-*`)),
        from: 'ceiling documents',
      };
    }

    // ── 5: embedded store ─────────────────────────────────────────────────────────────────────
    progress(`sqlite: indexing ${sqliteDocs.toLocaleString()} documents`);
    const store = SqliteLogStore.open({ path: join(dir, 'embedded', 'logs.sqlite') });
    const sqliteStart = performance.now();
    for (let i = 0; i < sqliteDocs; i += 1_000)
      await store.index(logs.slice(i, Math.min(sqliteDocs, i + 1_000)));
    const sqliteSeconds = (performance.now() - sqliteStart) / 1000;
    await store.close();
    results.sqlite = {
      docs: sqliteDocs,
      seconds: sqliteSeconds,
      logsPerSecond: sqliteDocs / sqliteSeconds,
      fileBytesPerLog: statSync(join(dir, 'embedded', 'logs.sqlite')).size / sqliteDocs,
    };
    results.loadavgAfter = loadavg();

    const e2e = results.endToEnd as
      | { logsPerSecond: number; steadyLogsPerSecond: number; seconds: number; missing: number }
      | undefined;
    const latency = results.latency as { p50Ms: number; p99Ms: number; measured: number } | undefined;
    const storage = results.storage as { bytesPerLog: number; docs: number };
    const ceiling = results.bulkCeiling as { logsPerSecond: number };
    const sqlite = results.sqlite as { logsPerSecond: number };
    const rows: Record<string, string | number>[] = [];
    if (e2e) {
      rows.push(
        {
          figure: 'end to end file → searchable (logs/s, whole run)',
          measured: Math.round(e2e.logsPerSecond),
          target: '≥ 25,000',
          note: `${e2e.seconds.toFixed(0)} s, ${e2e.missing} missing`,
        },
        {
          figure: 'end to end, steady state 10 %→90 % (logs/s)',
          measured: Math.round(e2e.steadyLogsPerSecond),
          target: '≥ 25,000',
          note: '',
        },
      );
    }
    if (latency) {
      rows.push(
        {
          figure: `latency append → bulk-acked p50 (ms) at ${latencyRate}/s`,
          measured: latency.p50Ms,
          target: '≤ 100',
          note: `${latency.measured} logs`,
        },
        {
          figure: `latency append → bulk-acked p99 (ms) at ${latencyRate}/s`,
          measured: latency.p99Ms,
          target: '≤ 500',
          note: '',
        },
      );
    }
    rows.push(
      {
        figure: 'Elasticsearch bytes per log after force-merge',
        measured: Math.round(storage.bytesPerLog),
        target: '≤ 150',
        note: `${storage.docs} docs`,
      },
      {
        figure: 'raw Elasticsearch bulk rate, same docs (ceiling, logs/s)',
        measured: Math.round(ceiling.logsPerSecond),
        target: '—',
        note: '2 × 5,000-doc bulks in flight',
      },
      {
        figure: 'embedded SQLite store (logs/s)',
        measured: Math.round(sqlite.logsPerSecond),
        target: '≥ 20,000',
        note: 'store.index, 1,000 per batch',
      },
    );
    printTable(rows);
    const file = writeResults('ingest', results);
    console.log(`\nresults: ${file}`);
  } finally {
    for (const s of Object.values(stages)) await stopStage(s).catch(() => undefined);
    await client.indices
      .delete({ index: `${prefix}-*,${ceilingPrefix}-*`, expand_wildcards: 'all' }, { ignore: [404] })
      .catch(() => undefined);
    for (const p of [prefix, ceilingPrefix]) {
      await client.indices
        .deleteIndexTemplate({ name: `${p}-template` }, { ignore: [404] })
        .catch(() => undefined);
    }
    if (!values['skip-e2e'])
      await transport.deleteTopics([topics.raw, topics.parsed, topics.deadLetter]).catch(() => undefined);
    await transport.close().catch(() => undefined);
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
