import type { Command } from 'commander';
import Fastify from 'fastify';
import { loadConfig } from '../../common/config.ts';

// Foundation placeholder: serves /health until the pipeline and API are wired in.
export function register(program: Command): void {
  program
    .command('start')
    .description('run the whole pipeline, the API and the UI (embedded mode by default)')
    .option('--mode <mode>', 'embedded | kafka')
    .action(async (opts: { mode?: string }) => {
      const config = loadConfig({ ...process.env, ...(opts.mode ? { LOGFLOW_MODE: opts.mode } : {}) });
      const app = Fastify();
      app.get('/health', async () => ({ status: 'ok', mode: config.mode }));
      await app.listen({ host: config.host, port: config.port });
      console.log(`LogFlow (${config.mode}) listening on http://127.0.0.1:${config.port}`);
    });
}
