/**
 * The `logflow` command line. Each subcommand lives in `cli/commands/<name>.ts` and exports
 * `register(program)`; this file only lists them.
 */
import { Command } from 'commander';
import * as bench from './commands/bench.ts';
import * as db from './commands/db.ts';
import * as demo from './commands/demo.ts';
import * as generate from './commands/generate.ts';
import * as run from './commands/run.ts';
import * as services from './commands/services.ts';
import * as ship from './commands/ship.ts';
import * as start from './commands/start.ts';

const program = new Command('logflow')
  .description('LogFlow: a Kafka Streams-style stream-processing framework and the log pipeline built on it')
  .showHelpAfterError();

for (const command of [start, run, services, generate, ship, db, demo, bench]) command.register(program);

await program.parseAsync(process.argv);
