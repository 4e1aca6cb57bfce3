/**
 * The one mechanism behind every kafkajs replacement (kafkajs-*.ts): a module object with our
 * exports put into Node's CommonJS cache under the path of a kafkajs internal, so kafkajs' own
 * `require` of that path — made later, when the importing kafkajs module first loads — binds ours.
 */
import { createRequire, Module } from 'node:module';

export const require = createRequire(import.meta.url);

export function replaceCachedModule(path: string, exports: unknown): void {
  const mod = new Module(path);
  mod.filename = path;
  mod.loaded = true;
  mod.exports = exports;
  require.cache[path] = mod;
}
