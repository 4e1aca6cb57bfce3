import type { FastifyPluginAsync, FastifyPluginOptions } from 'fastify';

/**
 * What fastify-plugin does, without the dependency: a plugin that shares its decorators and hooks
 * with the parent (`skip-override`), carries a name, and declares the plugins it needs — fastify
 * refuses to start when a dependency was not registered first.
 */
export function namedPlugin<Options extends FastifyPluginOptions>(
  name: string,
  fn: FastifyPluginAsync<Options>,
  dependencies: string[] = [],
): FastifyPluginAsync<Options> {
  const plugin = fn as FastifyPluginAsync<Options> & Record<symbol, unknown>;
  plugin[Symbol.for('skip-override')] = true;
  plugin[Symbol.for('fastify.display-name')] = name;
  plugin[Symbol.for('plugin-meta')] = { name, fastify: '5.x', dependencies };
  return plugin;
}
