import type { Command } from 'commander';
import { BENCHES } from '../../bench/index.ts';

export function register(program: Command): void {
  program
    .command('bench')
    .description(`run a benchmark: ${Object.keys(BENCHES).join(', ')} (results in bench/results/)`)
    .argument('[name]', 'which benchmark; lists them when omitted')
    .argument('[args...]', 'options passed to the benchmark')
    .allowUnknownOption()
    .action(async (name: string | undefined, args: string[]) => {
      if (!name) {
        for (const [bench, load] of Object.entries(BENCHES)) {
          console.log(`${bench.padEnd(12)} ${(await load()).description}`);
        }
        return;
      }
      const load = BENCHES[name];
      if (!load) {
        console.error(
          `logflow bench: unknown benchmark "${name}" (known: ${Object.keys(BENCHES).join(', ')})`,
        );
        process.exitCode = 2;
        return;
      }
      await (await load()).run(args);
    });
}
