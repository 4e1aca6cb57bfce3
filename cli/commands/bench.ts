import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('bench')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      console.error('logflow bench: not built yet');
      process.exitCode = 2;
    });
}
