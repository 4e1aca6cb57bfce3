/**
 * The alert stage reads rules and silences and records history through narrow interfaces
 * (pipeline/alert/types.ts); these adapt the database's repositories to them.
 */
import type {
  AlertEvent,
  AlertHistorySink,
  AlertRuleSource,
  SilenceSource,
} from '../pipeline/alert/types.ts';
import type { Database, Severity } from '../storage/db/types.ts';

export function ruleSourceOf(db: Database): AlertRuleSource {
  return {
    list: () => db.alertRules.list(),
    watch(onChange) {
      const stop = db.alertRules.watch(() => onChange());
      return () => void stop();
    },
  };
}

export function silenceSourceOf(db: Database): SilenceSource {
  return { list: () => db.silences.list() };
}

export function historySinkOf(db: Database): AlertHistorySink {
  return {
    async recordFiring(evt: AlertEvent) {
      await db.triggeredAlerts.recordFiring({
        rule_id: evt.rule_id,
        rule_name: evt.rule_name,
        fingerprint: evt.fingerprint,
        severity: evt.severity as Severity,
        service: evt.service,
        value: evt.value,
        threshold: evt.threshold,
        labels: evt.labels,
        started_at: new Date(evt.started_at).toISOString(),
      });
    },
    async recordResolved(evt: AlertEvent) {
      const resolvedAt = new Date(evt.resolved_at ?? evt.emitted_at).toISOString();
      await db.triggeredAlerts.recordResolved(evt.fingerprint, resolvedAt, evt.value);
    },
  };
}
