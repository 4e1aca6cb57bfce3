import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('ship')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      console.error('logflow ship: not built yet');
      process.exitCode = 2;
    });
}
