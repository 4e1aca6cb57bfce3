/**
 * The UI plugin on its own (fastify inject, no pipeline): the page and its modules are served
 * with the right types and security headers, and no path escapes ui/public.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePublicFile, UI_PUBLIC_DIR, uiPlugin } from '../../../ui/plugin.ts';

describe('ui plugin', () => {
  let app: FastifyInstance;
  let sandbox: string;

  beforeAll(async () => {
    app = Fastify();
    await app.register(uiPlugin);
    await app.ready();
    // A served root with a secret beside it and a symlink that points at the secret.
    sandbox = mkdtempSync(join(tmpdir(), 'logflow-ui-'));
    mkdirSync(join(sandbox, 'public'));
    writeFileSync(join(sandbox, 'public', 'ok.js'), 'export {};');
    writeFileSync(join(sandbox, 'secret.js'), 'SECRET');
    symlinkSync(join(sandbox, 'secret.js'), join(sandbox, 'public', 'link.js'));
  });

  afterAll(async () => {
    await app.close();
    rmSync(sandbox, { recursive: true, force: true });
  });

  it('serves the page at / with a strict content security policy', async () => {
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<div id="app"');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves modules, styles and images with their content types', async () => {
    const cases = [
      ['/ui/js/app.js', 'text/javascript; charset=utf-8'],
      ['/ui/js/views/search.js', 'text/javascript; charset=utf-8'],
      ['/ui/css/app.css', 'text/css; charset=utf-8'],
      ['/ui/favicon.svg', 'image/svg+xml'],
    ];
    for (const [url, type] of cases) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toBe(type);
    }
  });

  it('answers 404 (never a file outside ui/public) for traversal attempts', async () => {
    const attempts = [
      '/ui/../plugin.ts',
      '/ui/%2e%2e/plugin.ts',
      '/ui/%2e%2e/%2e%2e/package.json',
      '/ui/js/%2e%2e/%2e%2e/%2e%2e/biome.json',
      '/ui/css/..%2f..%2f..%2fpackage.json',
      '/ui/%2E%2E%2Fplugin.ts',
      '/ui/js/%2e%2e/%2e%2e/plugin.ts',
      '/ui/..%5cplugin.ts',
      '/ui/%252e%252e/plugin.ts',
      '/ui/%00.js',
      '/ui/%zz.js',
      '/ui/.hidden.js',
      '/ui/js/../../../package.json',
      '/ui/js/',
      '/ui/js',
      '/ui/nope.js',
    ];
    for (const url of attempts) {
      const res = await app.inject({ url });
      // fastify itself answers 400 to a malformed escape before routing.
      expect(url === '/ui/%zz.js' ? 400 : 404, url).toBe(res.statusCode);
      // Neither ui/plugin.ts nor package.json leaked (some URLs are normalised before routing).
      expect(res.body, url).not.toContain('resolvePublicFile');
      expect(res.body, url).not.toContain('better-sqlite3');
      expect(res.body, url).not.toContain('"linter"');
    }
  });

  it('resolves only regular files inside the root, not symlinks that leave it', async () => {
    const root = join(sandbox, 'public');
    expect(await resolvePublicFile(root, 'ok.js')).toMatch(/ok\.js$/);
    expect(await resolvePublicFile(root, 'link.js')).toBeNull();
    expect(await resolvePublicFile(root, '../secret.js')).toBeNull();
    expect(await resolvePublicFile(root, '%2e%2e/secret.js')).toBeNull();
    expect(await resolvePublicFile(UI_PUBLIC_DIR, 'index.html')).toMatch(/index\.html$/);
  });

  it('redirects /ui to the page', async () => {
    const res = await app.inject({ url: '/ui' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/');
  });
});
