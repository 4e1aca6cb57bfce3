import type { Command } from 'commander';
import { startApp } from '../../app/run.ts';
import { STAGE_NAMES, stageNamed } from '../../app/stages.ts';
import { loadConfig } from '../../common/config.ts';
import { closeOnSignals } from '../../topology/index.ts';

export function register(program: Command): void {
  program
    .command('run')
    .description(
      `run one stage of the pipeline (${STAGE_NAMES.join(' | ')}) or the api; start more processes to scale a stage`,
    )
    .argument('<stage>', `${STAGE_NAMES.join(' | ')} | api`)
    .option(
      '--mode <mode>',
      'embedded | kafka (default: LOGFLOW_MODE; one stage alone only makes sense on kafka)',
    )
    .action(async (name: string, opts: { mode?: string }) => {
      const config = loadConfig({
        ...process.env,
        LOGFLOW_MODE: opts.mode ?? process.env.LOGFLOW_MODE ?? 'kafka',
      });
      const stage = stageNamed(name);
      if (!stage && name !== 'api') {
        console.error(`unknown stage "${name}"; expected one of: ${STAGE_NAMES.join(', ')}, api`);
        process.exitCode = 2;
        return;
      }
      const app = await startApp(config, { stages: stage ? [stage] : [], api: name === 'api' });
      closeOnSignals([{ close: app.stop }]);
      console.log(`LogFlow stage "${name}" running (${config.mode})`);
    });
}
