/** The webhook sink connector (alerts → signed HTTP POSTs). See docs/alerts.md#webhooks. */
export {
  type DeliveryLedger,
  type DeliveryRecord,
  MemoryDeliveryLedger,
  SqlDeliveryLedger,
  SqliteDeliveryLedger,
} from './delivery-ledger.ts';
export {
  backoffDelay,
  DEFAULT_RETRY,
  type GiveUpReport,
  type RetryPolicy,
  WebhookDispatcher,
} from './dispatcher.ts';
export { jsonPayload, PAYLOAD_VERSION, slackPayload, type WebhookPayload } from './payload.ts';
export { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER, verifyWebhook } from './signature.ts';
export { embeddedIPv4, TargetGuard } from './ssrf-guard.ts';
export {
  createWebhookConnector,
  type WebhookConnector,
  type WebhookConnectorOptions,
} from './webhook-connector.ts';
export { type WebhookDeliveryResult, type WebhookMetrics, webhookMetrics } from './webhook-metrics.ts';
