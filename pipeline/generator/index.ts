/** The log generator (`logflow generate`): the seed's text/JSON formats, level mix, services and bursts. */
export { LEVEL_MIX, SERVICES, type Service } from './catalog.ts';
export { formatJson, formatLog, formatText, formatTimestamp, type LogFormat } from './formats.ts';
export {
  createLogFactory,
  type GeneratedLog,
  type LogFactory,
  type LogFactoryOptions,
} from './log-factory.ts';
export { createRng, type Rng } from './random.ts';
export {
  type GeneratorOptions,
  type GeneratorStats,
  generateLogLines,
  type RunningGenerator,
  startGenerator,
  writeLogs,
} from './run-generator.ts';
