import { randomBytes } from 'node:crypto';
import type { LogFlowConfig } from '../common/config.ts';
import { createLogger } from '../common/logger.ts';
import type { Database } from '../storage/db/types.ts';

const KEY = 'internal.webhook_secret';

/**
 * The secret that signs outgoing webhooks: LOGFLOW_WEBHOOK_SECRET when set; else one generated at
 * the first start, kept in system_config (shared by every webhook process) and printed once so
 * receivers can be configured to verify signatures.
 */
export async function resolveWebhookSecret(
  db: Database,
  config: Pick<LogFlowConfig, 'webhookSecret'>,
): Promise<string> {
  if (config.webhookSecret) return config.webhookSecret;
  const candidate = randomBytes(32).toString('hex');
  const stored = String(await db.systemConfig.setIfAbsent(KEY, candidate));
  if (stored === candidate) {
    createLogger('webhook').warn(
      { secret: stored },
      'generated the webhook signing secret (set LOGFLOW_WEBHOOK_SECRET to choose one); receivers verify X-LogFlow-Signature with it',
    );
  }
  return stored;
}
