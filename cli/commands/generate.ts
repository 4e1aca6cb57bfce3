import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('generate')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      console.error('logflow generate: not built yet');
      process.exitCode = 2;
    });
}
