/**
 * `logflow ship`: the file source as a process — tails files/globs into logs-raw (Avro via the
 * Schema Registry on Kafka), at least once, with a checkpoint of acknowledged offsets.
 *   logflow ship --log-file sample_logs/app.log
 *   logflow ship 'sample_logs/*.log' --checkpoint .logflow/run/shipper.checkpoint.json
 *   logflow ship status
 */
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { Registry } from 'prom-client';
import { loadConfig } from '../../common/config.ts';
import { createLogger } from '../../common/logger.ts';
import {
  createShipper,
  formatShipperStatus,
  type KeyBy,
  readShipperStatus,
} from '../../connectors/file/index.ts';
import type { RawLog } from '../../pipeline/parse/raw-log.ts';
import type { Serde } from '../../topology/serde.ts';
import { Serdes } from '../../topology/serdes/index.ts';
import { SchemaRegistryClient } from '../../topology/serdes/schema-registry.ts';
import { KafkaTransport } from '../../topology/transport/kafka-transport.ts';

const DEFAULT_CHECKPOINT = '.logflow/run/shipper.checkpoint.json';
const DEFAULT_PATHS = ['sample_logs/*.log'];

const collect = (value: string, previous: string[] = []) => [...previous, value];

function positive(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError(`--${name} must be a positive number, got "${raw}"`);
    }
    return n;
  };
}

export function register(program: Command): void {
  const ship = program
    .command('ship')
    .description('Tail log files (paths or globs) into the logs-raw topic, at least once')
    .argument('[paths...]', `files or globs to follow (default ${DEFAULT_PATHS.join(' ')})`)
    .option('-l, --log-file <path>', 'a file or glob to follow (repeatable; the seed spelling)', collect)
    .option('-c, --checkpoint <file>', 'where acknowledged offsets are kept', DEFAULT_CHECKPOINT)
    .option('-t, --topic <name>', 'topic to write (default config topics.raw: logs-raw)')
    .option('-s, --service <name>', 'metadata.service for every file (default: from each file name)')
    .option('--key-by <what>', 'Kafka key: path (default; per-file order), service or file', 'path')
    .option('--from-end', 'files found at the first start: ship only lines appended from now on')
    .option('--serde <kind>', 'avro (Schema Registry, default) or json', 'avro')
    .option('--poll-ms <ms>', 'how often files are checked for new data', positive('poll-ms'), 50)
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics on http://127.0.0.1:<port>/metrics',
      positive('metrics-port'),
    )
    .option(
      '--max-record-bytes <n>',
      "records longer than this (UTF-8 bytes) are cut and flagged (default 1000000, under Kafka's message limit)",
      positive('max-record-bytes'),
    )
    .action(async (paths: string[], opts) => {
      const config = loadConfig();
      const log = createLogger('ship');
      const inputs = [...paths, ...(opts.logFile ?? [])];
      const topic = opts.topic ?? config.topics.raw;
      if (!['path', 'service', 'file'].includes(opts.keyBy)) {
        console.error(`logflow ship: ${`--key-by must be path, service or file, got "${opts.keyBy}"`}`);
        process.exitCode = 2;
        return;
      }
      const transport = new KafkaTransport({ clientId: 'logflow-shipper' });
      await transport.ensureTopics([{ name: topic, partitions: config.partitions }]);
      let serde: Serde<RawLog>;
      if (opts.serde === 'json') serde = Serdes.Json<RawLog>();
      else {
        const avro = Serdes.Avro<RawLog>({
          registry: new SchemaRegistryClient({ url: config.schemaRegistryUrl }),
          schema: 'logs-raw',
        });
        await avro.prepare([topic]);
        serde = avro;
      }
      const registry = new Registry();
      const metricsServer = opts.metricsPort
        ? createServer(async (req, res) => {
            if (req.url !== '/metrics') {
              res.writeHead(404).end();
              return;
            }
            res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
          }).listen(opts.metricsPort, '127.0.0.1')
        : undefined;
      const producer = transport.producer({ lingerMs: 5 });
      await producer.connect();
      const shipper = createShipper({
        paths: inputs.length > 0 ? inputs : DEFAULT_PATHS,
        producer,
        serde,
        topic,
        checkpointPath: resolve(opts.checkpoint),
        service: opts.service,
        keyBy: opts.keyBy as KeyBy,
        startAt: opts.fromEnd ? 'end' : 'beginning',
        pollIntervalMs: opts.pollMs,
        maxRecordBytes: opts.maxRecordBytes,
        metricsRegistry: registry,
      });
      await shipper.start();
      log.info({ paths: inputs, topic, checkpoint: opts.checkpoint }, 'shipper started');
      const report = setInterval(() => log.info(shipper.stats(), 'shipper stats'), 10_000);
      await new Promise<void>((done) => {
        const stop = () => done();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      clearInterval(report);
      await shipper.stop();
      await producer.disconnect();
      await transport.close();
      metricsServer?.close();
      log.info(shipper.stats(), 'shipper stopped');
    });

  ship
    .command('status')
    .description('Each followed file: acknowledged offset, size, bytes behind and last acknowledgement')
    .option('-c, --checkpoint <file>', 'the shipper checkpoint to read', DEFAULT_CHECKPOINT)
    .option('--json', 'print JSON')
    .action(async (opts) => {
      // `logflow ship -c x status` and `logflow ship status -c x` both work: the parent also has -c.
      const checkpoint =
        ship.getOptionValueSource('checkpoint') === 'cli' ? ship.opts().checkpoint : opts.checkpoint;
      const rows = await readShipperStatus(resolve(checkpoint));
      console.log(opts.json ? JSON.stringify(rows, null, 2) : formatShipperStatus(rows));
    });
}
