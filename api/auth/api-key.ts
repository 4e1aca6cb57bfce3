import { createHash, randomBytes } from 'node:crypto';

/**
 * API keys for machines: `lf_<32 random base64url chars>`. Only the SHA-256 of the whole key is
 * stored (a high-entropy secret needs no slow KDF); the first 11 characters identify it in lists.
 */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = `lf_${randomBytes(24).toString('base64url')}`;
  return { key, prefix: key.slice(0, 11), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
