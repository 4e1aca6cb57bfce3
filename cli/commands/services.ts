import type { Command } from 'commander';
import { isLogFlowError } from '../../common/errors.ts';
import { down, SERVICE_NAMES, status, up } from '../../deploy/services/manager.ts';
import { VERSIONS } from '../../deploy/services/versions.ts';

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function printStatus(names: string[], json: boolean): Promise<boolean> {
  const rows = await status(names);
  if (json) {
    console.log(JSON.stringify({ versions: VERSIONS, services: rows }, null, 2));
  } else {
    console.log(
      table([
        ['SERVICE', 'HEALTH', 'URL', 'PID', 'RSS', 'LOG'],
        ...rows.map((r) => [
          r.name,
          r.healthy ? 'healthy' : 'DOWN',
          r.url,
          r.pid === undefined ? (r.healthy ? 'external' : '-') : String(r.pid),
          r.rssMiB === undefined ? '-' : `${r.rssMiB} MiB`,
          r.log,
        ]),
      ]),
    );
  }
  return rows.every((r) => r.healthy);
}

/** Expected failures (unknown service, missing JDK, …) print one line, not a stack trace. */
function reported<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      if (!isLogFlowError(err)) throw err;
      console.error(`logflow services: ${err.code}: ${err.message}`);
      process.exitCode = 1;
    }
  };
}

export function register(program: Command): void {
  const services = program
    .command('services')
    .description(
      `run the real services on loopback without Docker (${SERVICE_NAMES.join(', ')}), from Maven Central and Debian packages`,
    );

  services
    .command('up')
    .argument('[names...]', `services to start (default: all of ${SERVICE_NAMES.join(', ')})`)
    .description('start what is not running and wait until every service is healthy (idempotent)')
    .action(
      reported(async (names: string[]) => {
        const t0 = Date.now();
        const results = await up(names);
        const failed = results.filter((r) => r.outcome === 'failed');
        for (const r of failed) console.error(`${r.name}: FAILED — ${r.error}`);
        console.log(`\nservices up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        const healthy = await printStatus(names, false);
        if (failed.length > 0 || !healthy) process.exitCode = 1;
      }),
    );

  services
    .command('down')
    .argument('[names...]', 'services to stop (default: all)')
    .description('stop the services this project started (by pid); services it did not start are left alone')
    .action(
      reported(async (names: string[]) => {
        const stopped = await down(names);
        console.log(stopped.length > 0 ? `stopped: ${stopped.join(', ')}` : 'nothing to stop');
      }),
    );

  services
    .command('status')
    .argument('[names...]', 'services to show (default: all)')
    .option('--json', 'print JSON (with the pinned versions)')
    .description('show each service, its URL, pid, memory, health and log; exits 1 if any is down')
    .action(
      reported(async (names: string[], options: { json?: boolean }) => {
        if (!(await printStatus(names, options.json ?? false))) process.exitCode = 1;
      }),
    );
}
