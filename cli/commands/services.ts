import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('services')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      console.error('logflow services: not built yet');
      process.exitCode = 2;
    });
}
