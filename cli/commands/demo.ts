/**
 * `logflow demo`: the seed's 45-second end-to-end demo. Starts the whole pipeline (embedded by
 * default, or `--mode kafka` on the real services), generates logs with error bursts, then prints
 * how many records each stage's topic holds, the search store's counts per level and per service,
 * and sample documents.
 */
import type { Command } from 'commander';
import { startApp } from '../../app/run.ts';
import { allStages } from '../../app/stages.ts';
import { loadConfig } from '../../common/config.ts';
import type { Transport } from '../../topology/transport/transport.ts';

async function topicSize(transport: Transport, topic: string): Promise<number> {
  const ends = await transport.endOffsets(topic).catch(() => []);
  return ends.reduce((sum, p) => sum + p.offset, 0);
}

function table(rows: [string, number | string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'run the pipeline for ~45 s with generated logs and print counts per stage, level and service',
    )
    .option('--mode <mode>', 'embedded | kafka', 'embedded')
    .option('--seconds <n>', 'how long to generate', '45')
    .option('--rate <n>', 'generated logs per second', '200')
    .option('--port <n>', 'API/UI port while the demo runs', '8000')
    .action(async (opts: { mode: string; seconds: string; rate: string; port: string }) => {
      const config = loadConfig({
        ...process.env,
        LOGFLOW_MODE: opts.mode,
        LOGFLOW_GENERATE_RATE: opts.rate,
        PORT: opts.port,
        LOGFLOW_DATA_DIR: process.env.LOGFLOW_DATA_DIR ?? `.logflow/demo-${Date.now()}`,
        LOGFLOW_ADMIN_PASSWORD: process.env.LOGFLOW_ADMIN_PASSWORD,
      });
      const seconds = Number(opts.seconds);
      console.log(`Starting the ${config.mode} pipeline (data in ${config.dataDir}) …`);
      const app = await startApp(config, { stages: allStages(), api: true });
      console.log(
        `UI and API on http://127.0.0.1:${config.port} — generating ${opts.rate} logs/s for ${seconds} s`,
      );
      const started = Date.now();
      const progress = setInterval(async () => {
        const indexed = await app.ctx.logStore.count().catch(() => 0);
        console.log(`  ${Math.round((Date.now() - started) / 1000)} s: ${indexed} logs searchable`);
      }, 5_000);
      await new Promise((r) => setTimeout(r, seconds * 1000));
      clearInterval(progress);

      const { transport, logStore, config: c } = app.ctx;
      const stages: [string, number | string][] = [
        [`${c.topics.raw} (shipped)`, await topicSize(transport, c.topics.raw)],
        [`${c.topics.parsed} (parsed)`, await topicSize(transport, c.topics.parsed)],
        ['search store (indexed)', await logStore.count()],
        [`${c.topics.metrics} (window updates)`, await topicSize(transport, c.topics.metrics)],
        [`${c.topics.alerts} (alert events)`, await topicSize(transport, c.topics.alerts)],
        [`${c.topics.deadLetter} (dead letters)`, await topicSize(transport, c.topics.deadLetter)],
      ];
      const all = await logStore.search({ limit: 3, offset: 0 });
      const errors = await logStore.search({ levels: ['ERROR'], limit: 2, offset: 0 });
      console.log('\nRecords per stage:');
      console.log(table(stages));
      console.log('\nLogs by level:');
      console.log(table(Object.entries(all.aggregations.by_level)));
      console.log('\nLogs by service:');
      console.log(table(Object.entries(all.aggregations.by_service)));
      console.log('\nSample documents:');
      for (const doc of [...all.logs.slice(0, 1), ...errors.logs]) console.log(JSON.stringify(doc, null, 2));
      await app.stop();
      console.log(`\nDone. Explore the data again with: LOGFLOW_DATA_DIR=${c.dataDir} npm start`);
    });
}
