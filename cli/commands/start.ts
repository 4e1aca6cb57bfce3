import type { Command } from 'commander';
import { startApp } from '../../app/run.ts';
import { allStages } from '../../app/stages.ts';
import { loadConfig } from '../../common/config.ts';
import { closeOnSignals } from '../../topology/index.ts';

export function register(program: Command): void {
  program
    .command('start')
    .description('run the whole pipeline, the API and the UI in one process (embedded mode by default)')
    .option('--mode <mode>', 'embedded | kafka (default: LOGFLOW_MODE or embedded)')
    .option('--no-generate', 'do not run the built-in log generator')
    .action(async (opts: { mode?: string; generate: boolean }) => {
      const config = loadConfig({ ...process.env, ...(opts.mode ? { LOGFLOW_MODE: opts.mode } : {}) });
      const stages = allStages().filter((s) => s.name !== 'generate' || (config.generate && opts.generate));
      const app = await startApp(config, { stages, api: true });
      closeOnSignals([{ close: app.stop }]);
      console.log(
        `LogFlow (${config.mode}) is running: UI and API on http://127.0.0.1:${config.port} ` +
          `(API docs at /docs); stages: ${stages.map((s) => s.name).join(', ')}`,
      );
    });
}
