/**
 * `logflow generate`: realistic application logs in the seed's text or JSON format.
 *   logflow generate --format json --rate 10 --burst-interval 60 --output sample_logs/app.log
 */
import { type Command, InvalidArgumentError } from 'commander';
import { type GeneratorStats, startGenerator } from '../../pipeline/generator/index.ts';

function number(name: string, min: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) {
      throw new InvalidArgumentError(`--${name} must be a number >= ${min}, got "${raw}"`);
    }
    return n;
  };
}

function progressLine(s: GeneratorStats): string {
  const perSec = s.elapsedMs > 0 ? Math.round((s.events * 1000) / s.elapsedMs) : 0;
  return `generated ${s.events} logs (${perSec}/s, ${(s.bytes / 1e6).toFixed(1)} MB, ${s.bursts} bursts)`;
}

export function register(program: Command): void {
  program
    .command('generate')
    .description(
      'Generate realistic application logs (seed formats, level mix INFO 70/WARN 15/ERROR 10/DEBUG 5)',
    )
    .option('-f, --format <format>', 'text or json', 'text')
    .option('-r, --rate <n>', 'logs per second (0 = as fast as possible)', number('rate', 0), 10)
    .option(
      '-b, --burst-interval <s>',
      'seconds between bursts of ERRORs from one service (0 = off)',
      number('burst-interval', 0),
      60,
    )
    .option('--burst-size <n>', 'logs per burst', number('burst-size', 1), 25)
    .option('-n, --count <n>', 'stop after this many logs', number('count', 0))
    .option('-d, --duration <s>', 'stop after this many seconds', number('duration', 0))
    .option('-o, --output <file>', 'append to this file instead of stdout')
    .option(
      '--rotate-mb <n>',
      'with --output: rotate the file by rename at this size (MB)',
      number('rotate-mb', 0),
      0,
    )
    .option('--keep <n>', 'rotated files kept (app.log.1 … app.log.<n>)', number('keep', 1), 3)
    .option('-s, --seed <n>', 'seed for a reproducible stream', number('seed', 0))
    .option('-q, --quiet', 'no progress line on stderr')
    .action(async (opts) => {
      if (opts.format !== 'text' && opts.format !== 'json') {
        console.error(`logflow generate: ${`--format must be text or json, got "${opts.format}"`}`);
        process.exitCode = 2;
        return;
      }
      const generator = startGenerator({
        format: opts.format,
        rate: opts.rate,
        burstIntervalMs: opts.burstInterval * 1000,
        burstSize: opts.burstSize,
        count: opts.count,
        durationMs: opts.duration !== undefined ? opts.duration * 1000 : undefined,
        output: opts.output,
        seed: opts.seed,
        rotateBytes: Math.round(opts.rotateMb * 1024 * 1024),
        keepFiles: opts.keep,
        onProgress: opts.quiet ? undefined : (s) => process.stderr.write(`${progressLine(s)}\n`),
      });
      const stop = () => void generator.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const stats = await generator.done;
      if (!opts.quiet && stats.elapsedMs >= 5000) process.stderr.write(`${progressLine(stats)} — done\n`);
    });
}
