/**
 * Webhook signatures, as receivers verify them:
 *   X-LogFlow-Timestamp: <unix seconds>
 *   X-LogFlow-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 * Signing the timestamp with the body lets a receiver reject replays older than a tolerance.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-LogFlow-Signature';
export const TIMESTAMP_HEADER = 'X-LogFlow-Timestamp';

export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): constant-time check, and the timestamp within `toleranceSeconds` of now. */
export function verifyWebhook(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  { toleranceSeconds = 300, nowSeconds = Math.floor(Date.now() / 1000) } = {},
): boolean {
  if (!headers.signature || !headers.timestamp || !/^\d+$/.test(headers.timestamp)) return false;
  const ts = Number(headers.timestamp);
  if (Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, ts, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
