import { randomBytes } from 'node:crypto';

/** A unique resource name for one test (topics, indices, groups, keys), so tests never collide. */
export function randomName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
