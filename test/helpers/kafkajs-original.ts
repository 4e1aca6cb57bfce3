/**
 * kafkajs' own code, for tests that compare LogFlow's replacements of kafkajs internals
 * (topology/transport/kafkajs-*.ts) with the originals: the requested file and every kafkajs file
 * it requires are compiled again into a private module table, so neither our module-cache
 * replacements nor the process' module cache are involved. Node built-ins and other packages come
 * from the real require. One table per call: a call gets a whole, consistent original graph.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { compileFunction } from 'node:vm';

const require = createRequire(import.meta.url);
const KAFKAJS_SRC = dirname(require.resolve('kafkajs/src/index.js'));

export function loadKafkajsOriginal<T>(request: string): T {
  const modules = new Map<string, { exports: unknown }>();
  const load = (path: string): unknown => {
    const known = modules.get(path);
    if (known) return known.exports;
    const mod = { exports: {} as unknown };
    modules.set(path, mod);
    const localRequire = createRequire(path);
    const requireFn = (id: string): unknown => {
      const resolved = localRequire.resolve(id);
      return resolved.startsWith(KAFKAJS_SRC) ? load(resolved) : localRequire(resolved);
    };
    const fn = compileFunction(
      readFileSync(path, 'utf8'),
      ['exports', 'require', 'module', '__filename', '__dirname'],
      { filename: path },
    );
    fn(mod.exports, requireFn, mod, path, dirname(path));
    return mod.exports;
  };
  return load(require.resolve(request)) as T;
}
