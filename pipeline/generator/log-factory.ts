/**
 * Makes log events: picks a service and a level by the seed's mix, a message for them and, for
 * some errors, a stack trace. A burst forces the next events to be ERRORs of one service, which
 * is what the alerting stages are meant to catch.
 */
import {
  type GeneratedLevel,
  LEVEL_MIX,
  makeStackTrace,
  makeTemplate,
  SERVICES,
  type Service,
} from './catalog.ts';
import { createRng, type Rng } from './random.ts';

export interface GeneratedLog {
  /** Epoch ms. */
  timestamp: number;
  level: GeneratedLevel;
  service: Service;
  message: string;
  fields: Record<string, string | number>;
  /** Continuation lines (text format: written as their own lines; JSON: a `stack_trace` field). */
  stack?: string[];
}

export interface LogFactoryOptions {
  seed?: number;
  /** Share of ERROR events that carry a multi-line stack trace. Default 0.3. */
  stackTraceRatio?: number;
}

export interface LogFactory {
  next(timestamp: number): GeneratedLog;
  /** The next `size` events are ERRORs of one (random) service; returns that service. */
  startBurst(size: number): Service;
  readonly rng: Rng;
}

export function createLogFactory(options: LogFactoryOptions = {}): LogFactory {
  const rng = createRng(options.seed);
  const stackTraceRatio = options.stackTraceRatio ?? 0.3;
  const total = LEVEL_MIX.reduce((sum, [, w]) => sum + w, 0);
  let burstLeft = 0;
  let burstService: Service = SERVICES[0];

  const pickLevel = (): GeneratedLevel => {
    let x = rng.next() * total;
    for (const [level, weight] of LEVEL_MIX) {
      x -= weight;
      if (x < 0) return level;
    }
    return 'INFO';
  };

  return {
    rng,
    startBurst(size) {
      burstService = rng.pick(SERVICES);
      burstLeft = size;
      return burstService;
    },
    next(timestamp) {
      let service: Service;
      let level: GeneratedLevel;
      if (burstLeft > 0) {
        burstLeft--;
        service = burstService;
        level = 'ERROR';
      } else {
        service = rng.pick(SERVICES);
        level = pickLevel();
      }
      const { message, fields } = makeTemplate(rng, service, level);
      const log: GeneratedLog = { timestamp, level, service, message, fields };
      if (level === 'ERROR' && rng.chance(stackTraceRatio)) log.stack = makeStackTrace(rng, message);
      return log;
    },
  };
}
