/**
 * The UI's DOM-free modules (the SSE parser, the Prometheus parser, the pipeline model) run in
 * Node as they are served: plain ES modules, imported by URL so TypeScript does not type them.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { UI_PUBLIC_DIR } from '../../../ui/plugin.ts';

// biome-ignore lint/suspicious/noExplicitAny: untyped browser modules
type Module = Record<string, any>;
const load = (path: string): Promise<Module> => import(pathToFileURL(join(UI_PUBLIC_DIR, 'js', path)).href);

describe('ui modules', () => {
  let sse: Module;
  let prom: Module;
  let model: Module;
  let format: Module;

  beforeAll(async () => {
    [sse, prom, model, format] = await Promise.all([
      load('sse.js'),
      load('prometheus.js'),
      load('pipeline-model.js'),
      load('format.js'),
    ]);
  });

  it('parses SSE split at any byte, with comments, CRLF and multi-line data', () => {
    const stream =
      'retry: 3000\n: connected\n\nid: a1\nevent: log\ndata: {"x":1}\n\n: heartbeat\r\n\r\nevent: dropped\r\ndata: {"count":2}\r\n\r\ndata: line1\ndata: line2\n\n';
    for (let split = 0; split <= stream.length; split++) {
      const events: unknown[] = [];
      const push = sse.createSseParser((e: unknown) => events.push(e));
      push(stream.slice(0, split));
      push(stream.slice(split));
      expect(events, `split at ${split}`).toEqual([
        { event: 'log', data: '{"x":1}', id: 'a1' },
        { event: 'dropped', data: '{"count":2}', id: 'a1' },
        { event: 'message', data: 'line1\nline2', id: 'a1' },
      ]);
    }
  });

  it('parses Prometheus text with escaped label values and sums by label', () => {
    const text = [
      '# HELP logflow_consumer_lag lag',
      '# TYPE logflow_consumer_lag gauge',
      'logflow_consumer_lag{group="logflow-parse",topic="logs-raw",partition="0"} 3',
      'logflow_consumer_lag{group="logflow-parse",topic="logs-raw",partition="1"} 4',
      'logflow_stage_records_in_total{stage="we\\"ird}, name"} 7',
      'process_start_time_seconds 1795825352',
      'logflow_x{le="+Inf"} +Inf',
      'garbage line without value{',
    ].join('\n');
    const samples = prom.parsePrometheus(text);
    expect(samples).toHaveLength(5);
    expect(samples[2]).toEqual({
      name: 'logflow_stage_records_in_total',
      labels: { stage: 'we"ird}, name' },
      value: 7,
    });
    expect(prom.sumOf(samples, 'logflow_consumer_lag', { group: 'logflow-parse' })).toBe(7);
    expect(prom.sumOf(samples, 'logflow_consumer_lag', { group: 'other' })).toBeUndefined();
    expect(samples[4].value).toBe(Number.POSITIVE_INFINITY);
  });

  it('reads each pipeline stage from the metric families it reports, and "no metrics" as undefined', () => {
    const text = [
      'logflow_stage_records_out_total{stage="logs-raw-source"} 100',
      'logflow_stage_records_in_total{stage="parse"} 100',
      'logflow_stage_records_out_total{stage="logs-parsed-sink"} 98',
      'logflow_stage_errors_total{stage="parse",kind="processing"} 2',
      'logflow_consumer_lag{group="logflow-parse",topic="logs-raw",partition="0"} 5',
      'logflow_stage_records_in_total{stage="shipper"} 120',
      'logflow_stage_records_out_total{stage="shipper"} 110',
      'logflow_shipper_bytes_behind 4096',
    ].join('\n');
    const first = model.pipelineStatus(prom.parsePrometheus(text));
    const byId = Object.fromEntries(first.map((s: { id: string }) => [s.id, s]));
    expect(byId.parse).toMatchObject({ in: 100, out: 98, errors: 2, lag: 5 });
    expect(byId.ship).toMatchObject({ in: 120, out: 110, lag: 4096, lagUnit: 'bytes' });
    expect(byId.webhook).toMatchObject({ in: undefined, out: undefined, lag: undefined });
    expect(model.PIPELINE_STAGES.map((s: { id: string }) => s.id)).toEqual([
      'generate',
      'ship',
      'parse',
      'index',
      'aggregate',
      'materialise',
      'alert',
      'webhook',
    ]);
    const later = model.pipelineStatus(
      prom.parsePrometheus(text.replace('logs-parsed-sink"} 98', 'logs-parsed-sink"} 128')),
      first,
      3,
    );
    expect(later.find((s: { id: string }) => s.id === 'parse').outRate).toBe(10);
  });

  it('offers exactly the API time ranges and only the intervals it accepts for each', () => {
    expect(Object.keys(format.TIME_RANGES)).toEqual([
      '5m',
      '15m',
      '30m',
      '1h',
      '6h',
      '12h',
      '24h',
      '7d',
      '30d',
    ]);
    expect(Object.keys(format.INTERVALS)).toEqual(['1m', '5m', '15m', '30m', '1h']);
    expect(format.intervalsFor('30d')).toEqual(['15m', '30m', '1h']);
    expect(format.intervalsFor('5m')).toEqual(['1m', '5m', '15m', '30m', '1h']);
    for (const range of Object.keys(format.TIME_RANGES)) {
      expect(format.intervalsFor(range)).toContain(format.defaultInterval(range));
    }
  });
});
