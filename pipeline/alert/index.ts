/** The alert stage: logs-metrics → rule state machines → alerts (+ history). See docs/alerts.md. */
export { AlertEngine, type AlertKeyValue } from './alert-engine.ts';
export { ALERT_STORE, alertProcessor } from './alert-processor.ts';
export { type AlertMachineState, type AlertPhase, step } from './alert-state-machine.ts';
export {
  type AlertSerdes,
  type AlertStage,
  type AlertTopologyOptions,
  alertStreamsConfig,
  alertTopicSpecs,
  buildAlertTopology,
} from './alert-topology.ts';
export { alertFingerprint } from './fingerprint.ts';
export { AlertHistoryRecorder, triggeredAlertsSink } from './history-recorder.ts';
export { RuleCache } from './rule-cache.ts';
export { ruleValue } from './rule-value.ts';
export { isSilenced } from './silences.ts';
export {
  type AlertEvent,
  type AlertHistorySink,
  type AlertReason,
  type AlertRuleSource,
  type AlertState,
  type AlertTargetRef,
  alertEventId,
  type SilenceSource,
} from './types.ts';
