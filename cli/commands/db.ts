import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('db')
    .description('(not built yet)')
    .allowUnknownOption()
    .action(() => {
      console.error('logflow db: not built yet');
      process.exitCode = 2;
    });
}
