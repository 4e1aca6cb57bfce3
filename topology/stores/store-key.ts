/**
 * Map key for a record key: primitives are used as they are (fast path for string and number
 * keys); objects by their JSON text, prefixed so they never collide with a string key.
 */
export function storeKeyId(key: unknown): unknown {
  if (key === null || typeof key !== 'object') return key;
  if (Buffer.isBuffer(key)) return `\u0001b${key.toString('latin1')}`;
  return `\u0001j${JSON.stringify(key)}`;
}
