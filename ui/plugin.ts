/**
 * Serves the browser UI: `/` is the single page, `/ui/*` its static files (ES modules and CSS,
 * no build step). Files need no authentication — every API call they make does.
 *
 * Files are read from ui/public at request time (small, and edits show without a restart); a path
 * that leaves that folder, hides in a dot-file, or names no regular file is a 404, never a read.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { namedPlugin } from '../api/plugin.ts';

export const UI_PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

// Scripts and styles only from this origin, no inline code: even if log text reached the DOM as
// markup, the browser would not run it.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

export interface UiPluginOptions {
  /** Folder served at /ui/ (default: ui/public next to this file). */
  root?: string;
}

/**
 * The file under `root` that a URL path names, or null when the path is not a servable file:
 * encoded or literal `..`, backslashes, NUL, dot-files, symlinks that lead outside `root`.
 */
export async function resolvePublicFile(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const parts = decoded.split('/').filter((p) => p !== '');
  if (parts.length === 0 || parts.some((p) => p === '.' || p === '..' || p.startsWith('.'))) return null;
  if (!CONTENT_TYPES[extname(decoded).toLowerCase()]) return null;
  try {
    const realRoot = await realpath(root);
    const file = await realpath(join(realRoot, ...parts));
    if (!file.startsWith(realRoot + sep)) return null;
    return (await stat(file)).isFile() ? file : null;
  } catch {
    return null;
  }
}

async function sendFile(reply: FastifyReply, file: string, cacheControl: string) {
  const body = await readFile(file);
  return reply
    .headers(SECURITY_HEADERS)
    .header('cache-control', cacheControl)
    .type(CONTENT_TYPES[extname(file).toLowerCase()])
    .send(body);
}

function notFound(reply: FastifyReply, url: string) {
  return reply
    .code(404)
    .type('application/json')
    .send({
      code: 'LF_ERR_NOT_FOUND',
      message: `File ${url.split('?')[0]} not found`,
      details: null,
    });
}

export const uiPlugin = namedPlugin<UiPluginOptions>('logflow-ui', async (app: FastifyInstance, opts) => {
  const root = opts.root ?? UI_PUBLIC_DIR;
  // The UI is a moving target during development and tiny: revalidate rather than cache blindly.
  const cacheControl = 'no-cache';

  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    sendFile(reply, join(root, 'index.html'), cacheControl),
  );
  app.get('/ui', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/'));
  app.get<{ Params: { '*': string } }>('/ui/*', { schema: { hide: true } }, async (request, reply) => {
    // The raw URL, not the router's decoded parameter: `%2e%2e` must be judged after one decoding.
    const raw = request.raw.url ?? '';
    const path = raw.split('?')[0].slice('/ui/'.length);
    const file = await resolvePublicFile(root, path);
    if (!file) return notFound(reply, raw);
    return sendFile(reply, file, cacheControl);
  });
});
