/** The parse stage: `parseRawLog` (pure) and the `logs-raw` → `logs-parsed` topology. */
export { extractErrorCode, extractKeyValues } from './fields.ts';
export { normalizeLevel } from './levels.ts';
export { logIdOf } from './log-id.ts';
export { parseRawLog } from './parse-raw-log.ts';
export {
  buildParseTopology,
  type ParseSerdes,
  type ParseTopologyOptions,
  parseStreamsConfig,
  parseTopicSpecs,
} from './parse-topology.ts';
export type { RawLog, RawLogMetadata } from './raw-log.ts';
export { parseTimestamp } from './timestamps.ts';
