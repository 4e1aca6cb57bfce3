/**
 * What a receiver gets. The JSON payload (format `json`) is LogFlow's own, versioned:
 *   { version: 1, status: "firing" | "resolved", alert: { …the alert event, times as ISO 8601… } }
 * The `slack` format is a Slack-compatible incoming-webhook body ({ text, blocks }).
 */
import type { AlertEvent } from '../../pipeline/alert/types.ts';

export const PAYLOAD_VERSION = 1;

export interface WebhookAlert {
  id: string;
  rule_id: number;
  rule_name: string;
  state: string;
  condition: string;
  reason: string;
  service: string | null;
  severity: string;
  value: number;
  threshold: number;
  window_seconds: number;
  labels: Record<string, string>;
  fingerprint: string;
  started_at: string;
  resolved_at: string | null;
  emitted_at: string;
}

export interface WebhookPayload {
  version: number;
  status: 'firing' | 'resolved';
  alert: WebhookAlert;
}

export function jsonPayload(evt: AlertEvent, eventId: string): WebhookPayload {
  return {
    version: PAYLOAD_VERSION,
    status: evt.state === 'FIRING' ? 'firing' : 'resolved',
    alert: {
      id: eventId,
      rule_id: evt.rule_id,
      rule_name: evt.rule_name,
      state: evt.state,
      condition: evt.condition,
      reason: evt.reason,
      service: evt.service,
      severity: evt.severity,
      value: evt.value,
      threshold: evt.threshold,
      window_seconds: evt.window_seconds,
      labels: evt.labels,
      fingerprint: evt.fingerprint,
      started_at: new Date(evt.started_at).toISOString(),
      resolved_at: evt.resolved_at === null ? null : new Date(evt.resolved_at).toISOString(),
      emitted_at: new Date(evt.emitted_at).toISOString(),
    },
  };
}

function formatValue(evt: AlertEvent): string {
  return evt.condition === 'error_rate_above' ? `${(evt.value * 100).toFixed(1)}%` : String(evt.value);
}

export function slackPayload(evt: AlertEvent): { text: string; blocks: unknown[] } {
  const firing = evt.state === 'FIRING';
  const icon = firing
    ? evt.severity === 'critical'
      ? ':red_circle:'
      : ':large_orange_circle:'
    : ':white_check_mark:';
  const scope = evt.service ?? 'all services';
  const text = `${icon} [${evt.state}] ${evt.rule_name} — ${scope}: ${formatValue(evt)} (threshold ${evt.threshold}, ${evt.window_seconds}s)`;
  const labels = Object.entries(evt.labels)
    .map(([k, v]) => `\`${k}=${v}\``)
    .join(' ');
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${text}*` } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `severity: ${evt.severity} · started ${new Date(evt.started_at).toISOString()}${
              evt.resolved_at ? ` · resolved ${new Date(evt.resolved_at).toISOString()}` : ''
            }${labels ? ` · ${labels}` : ''}`,
          },
        ],
      },
    ],
  };
}
