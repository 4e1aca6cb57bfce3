import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdmin, resolveJwtSecret } from '../../../api/auth/bootstrap.ts';
import { signToken, verifyToken } from '../../../api/auth/jwt.ts';
import { hashPassword, verifyPassword } from '../../../api/auth/password.ts';
import { openSqliteDatabase } from '../../../storage/db/sqlite-database.ts';
import { ADMIN_PASSWORD, bearer, errorCode, type Harness, login, startHarness } from './harness.ts';

describe('passwords and tokens', () => {
  it('scrypt hashes carry their parameters and a random salt', async () => {
    const a = await hashPassword('correct horse', { N: 1024, r: 8, p: 1 });
    const b = await hashPassword('correct horse', { N: 1024, r: 8, p: 1 });
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horsE', a)).toBe(false);
    expect(await verifyPassword('x', 'scrypt$999999999$8$1$AA$AA')).toBe(false);
    expect(await verifyPassword('x', 'plain')).toBe(false);
  });

  it('JWTs: valid, expired, tampered, alg none, wrong secret', () => {
    const now = 1_800_000_000_000;
    const claims = { sub: '1', name: 'a', role: 'admin' as const, iat: now / 1000, exp: now / 1000 + 60 };
    const token = signToken(claims, 's3cret');
    expect(verifyToken(token, 's3cret', now)).toEqual(claims);
    expect(verifyToken(token, 's3cret', now + 61_000)).toBeNull();
    expect(verifyToken(token, 'other', now)).toBeNull();
    const [h, p, s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin', sub: '2' })).toString('base64url');
    expect(verifyToken(`${h}.${forged}.${s}`, 's3cret', now)).toBeNull();
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(verifyToken(`${none}.${p}.`, 's3cret', now)).toBeNull();
    expect(verifyToken('garbage', 's3cret', now)).toBeNull();
  });

  it('ensureAdmin: a generated password printed exactly once; LOGFLOW_ADMIN_PASSWORD used when set', async () => {
    const db = openSqliteDatabase(':memory:');
    const printed: string[] = [];
    expect(await ensureAdmin(db, { adminPassword: undefined }, (m) => printed.push(m))).toEqual({
      created: true,
      generated: true,
    });
    expect(await ensureAdmin(db, { adminPassword: undefined }, (m) => printed.push(m))).toEqual({
      created: false,
      generated: false,
    });
    expect(printed).toHaveLength(1);
    const password = /Password: (\S+)/.exec(printed[0])?.[1] ?? '';
    expect(password.length).toBeGreaterThanOrEqual(20);
    const admin = await db.users.findByUsername('admin');
    expect(admin?.role).toBe('admin');
    expect(await verifyPassword(password, admin!.password_hash)).toBe(true);
    await db.close();

    const db2 = openSqliteDatabase(':memory:');
    const lines: string[] = [];
    await ensureAdmin(db2, { adminPassword: 'from-the-env-1' }, (m) => lines.push(m));
    expect(lines.join()).not.toContain('from-the-env-1');
    expect(
      await verifyPassword('from-the-env-1', (await db2.users.findByUsername('admin'))!.password_hash),
    ).toBe(true);
    await db2.close();
  });

  it('the JWT secret is generated once and persisted (hidden key), or taken from config', async () => {
    const db = openSqliteDatabase(':memory:');
    const a = await resolveJwtSecret(db, { jwtSecret: undefined });
    expect(await resolveJwtSecret(db, { jwtSecret: undefined })).toBe(a);
    expect(a.length).toBeGreaterThanOrEqual(40);
    expect(await resolveJwtSecret(db, { jwtSecret: 'given' })).toBe('given');
    await db.close();
  });
});

describe('auth routes and rules', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('login returns a token and its expiry; wrong password and unknown user are the same 401', async () => {
    const ok = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    expect(ok.statusCode).toBe(200);
    const body = ok.json();
    expect(body.token.split('.')).toHaveLength(3);
    expect(Date.parse(body.expires_at)).toBeGreaterThan(Date.now());
    expect(body.user.password_hash).toBeUndefined();
    for (const payload of [
      { username: 'admin', password: 'wrong-password' },
      { username: 'nobody', password: 'wrong-password' },
    ]) {
      const res = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload });
      expect(res.statusCode).toBe(401);
      expect(errorCode(res)).toBe('LF_ERR_AUTH_INVALID');
      expect(res.json().message).toBe('Invalid username or password');
    }
    const bad = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin' },
    });
    expect(bad.statusCode).toBe(400);
    expect(errorCode(bad)).toBe('LF_ERR_VALIDATION');
  });

  it('no credentials → 401 LF_ERR_AUTH_REQUIRED; bad token or key → 401 LF_ERR_AUTH_INVALID', async () => {
    const none = await h.app.inject({ url: '/api/v1/logs/recent' });
    expect(none.statusCode).toBe(401);
    expect(errorCode(none)).toBe('LF_ERR_AUTH_REQUIRED');
    for (const headers of [
      { authorization: 'Bearer not.a.token' },
      { authorization: `Bearer ${h.adminToken}x` },
      { authorization: 'Basic YWRtaW46YWRtaW4=' },
      { 'x-api-key': 'lf_wrong' },
      { authorization: 'ApiKey lf_wrong' },
    ]) {
      const res = await h.app.inject({ url: '/api/v1/logs/recent', headers });
      expect(res.statusCode, JSON.stringify(headers)).toBe(401);
      expect(errorCode(res)).toBe('LF_ERR_AUTH_INVALID');
    }
  });

  it('unauthenticated requests are refused before validation and body parsing', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/v1/alerts/rules',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(res.statusCode).toBe(401);
  });

  it('API keys work as X-API-Key, Authorization: ApiKey and Bearer lf_…', async () => {
    for (const headers of [
      { 'x-api-key': h.apiKey },
      { authorization: `ApiKey ${h.apiKey}` },
      { authorization: `Bearer ${h.apiKey}` },
    ]) {
      const res = await h.app.inject({ url: '/api/v1/auth/me', headers });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ kind: 'api_key', name: 'apikey:ci', role: 'admin' });
    }
  });

  it('/health and /metrics need no credentials', async () => {
    expect((await h.app.inject({ url: '/health' })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/metrics' })).statusCode).toBe(200);
  });

  it('viewers (token or key) read but every write is 403 LF_ERR_FORBIDDEN', async () => {
    const writes: [string, string, unknown?][] = [
      [
        'POST',
        '/api/v1/alerts/rules',
        { name: 'x', condition: 'count_above', threshold: 1, window_seconds: 60 },
      ],
      [
        'PUT',
        '/api/v1/alerts/rules/1',
        { name: 'x', condition: 'count_above', threshold: 1, window_seconds: 60 },
      ],
      ['PATCH', '/api/v1/alerts/rules/1', { enabled: false }],
      ['DELETE', '/api/v1/alerts/rules/1'],
      ['POST', '/api/v1/alerts/history/1/acknowledge'],
      ['POST', '/api/v1/alerts/silences', { service: 'a', duration_seconds: 60 }],
      ['PUT', '/api/v1/alerts/silences/1', { service: 'a', duration_seconds: 60 }],
      ['DELETE', '/api/v1/alerts/silences/1'],
      ['GET', '/api/v1/users'],
      ['POST', '/api/v1/users', { username: 'eve', password: 'password-123', role: 'admin' }],
      ['GET', '/api/v1/users/1'],
      ['PATCH', '/api/v1/users/1', { role: 'viewer' }],
      ['DELETE', '/api/v1/users/1'],
      ['PUT', '/api/v1/config', { retention_days: 1 }],
      ['GET', '/api/v1/auth/api-keys'],
      ['POST', '/api/v1/auth/api-keys', { name: 'k' }],
      ['DELETE', '/api/v1/auth/api-keys/1'],
    ];
    for (const headers of [bearer(h.viewerToken), { 'x-api-key': h.viewerKey }]) {
      for (const [method, url, payload] of writes) {
        const res = await h.app.inject({ method: method as 'GET', url, headers, payload: payload as object });
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(errorCode(res)).toBe('LF_ERR_FORBIDDEN');
      }
      for (const url of [
        '/api/v1/alerts/rules',
        '/api/v1/alerts/history',
        '/api/v1/alerts/silences',
        '/api/v1/config',
      ]) {
        expect((await h.app.inject({ url, headers })).statusCode, url).toBe(200);
      }
    }
  });

  it('API keys: created by admins (secret shown once), listed without it, revoked', async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/api-keys',
      headers: bearer(h.adminToken),
      payload: { name: 'shipper', role: 'viewer' },
    });
    expect(created.statusCode).toBe(201);
    const { id, key, prefix } = created.json();
    expect(key.startsWith(prefix)).toBe(true);
    const list = await h.app.inject({ url: '/api/v1/auth/api-keys', headers: bearer(h.adminToken) });
    expect(list.body).not.toContain(key);
    expect(list.json().api_keys.map((k: { id: number }) => k.id)).toContain(id);
    expect((await h.app.inject({ url: '/api/v1/auth/me', headers: { 'x-api-key': key } })).json().role).toBe(
      'viewer',
    );
    const del = await h.app.inject({
      method: 'DELETE',
      url: `/api/v1/auth/api-keys/${id}`,
      headers: bearer(h.adminToken),
    });
    expect(del.statusCode).toBe(204);
    expect((await h.app.inject({ url: '/api/v1/auth/me', headers: { 'x-api-key': key } })).statusCode).toBe(
      401,
    );
    const past = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/api-keys',
      headers: bearer(h.adminToken),
      payload: { name: 'old', expires_at: '2000-01-01 00:00:00' },
    });
    expect(errorCode(past)).toBe('LF_ERR_VALIDATION');
  });

  it('users: admins create, read, change and delete; the last admin and oneself are protected', async () => {
    const auth = bearer(h.adminToken);
    const created = await h.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: auth,
      payload: { username: 'carol', password: 'carol-password', role: 'viewer', email: 'carol@example.com' },
    });
    expect(created.statusCode).toBe(201);
    const carol = created.json();
    expect(carol.password_hash).toBeUndefined();
    const dup = await h.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: auth,
      payload: { username: 'carol', password: 'carol-password', role: 'viewer' },
    });
    expect(dup.statusCode).toBe(409);
    expect(errorCode(dup)).toBe('LF_ERR_CONFLICT');
    for (const payload of [
      { username: 'x', password: 'carol-password', role: 'viewer' },
      { username: 'dave', password: 'short', role: 'viewer' },
      { username: 'dave', password: 'long-enough', role: 'root' },
      { username: 'dave', password: 'long-enough', role: 'viewer', email: 'not-an-email' },
      { username: 'dave', password: 'long-enough', role: 'viewer', extra: 1 },
    ]) {
      const res = await h.app.inject({ method: 'POST', url: '/api/v1/users', headers: auth, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const list = await h.app.inject({ url: '/api/v1/users', headers: auth });
    expect(list.json().users.map((u: { username: string }) => u.username)).toEqual([
      'admin',
      'viewer',
      'carol',
    ]);
    expect(list.body).not.toContain('scrypt$');
    const promoted = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${carol.id}`,
      headers: auth,
      payload: { password: 'new-carol-pass' },
    });
    expect(promoted.statusCode).toBe(200);
    await login(h.app, 'carol', 'new-carol-pass');
    const me = (await h.app.inject({ url: '/api/v1/auth/me', headers: auth })).json();
    expect(
      (await h.app.inject({ method: 'DELETE', url: `/api/v1/users/${me.id}`, headers: auth })).statusCode,
    ).toBe(409);
    const demote = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${me.id}`,
      headers: auth,
      payload: { role: 'viewer' },
    });
    expect(errorCode(demote)).toBe('LF_ERR_CONFLICT');
    expect(
      (await h.app.inject({ method: 'DELETE', url: `/api/v1/users/${carol.id}`, headers: auth })).statusCode,
    ).toBe(204);
    expect(errorCode(await h.app.inject({ url: `/api/v1/users/${carol.id}`, headers: auth }))).toBe(
      'LF_ERR_NOT_FOUND',
    );
  });

  it('a deleted user’s token stops working at once', async () => {
    const auth = bearer(h.adminToken);
    await h.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: auth,
      payload: { username: 'temp', password: 'temp-password', role: 'admin' },
    });
    const token = await login(h.app, 'temp', 'temp-password');
    const id = (await h.app.inject({ url: '/api/v1/auth/me', headers: bearer(token) })).json().id;
    await h.app.inject({ method: 'DELETE', url: `/api/v1/users/${id}`, headers: auth });
    expect((await h.app.inject({ url: '/api/v1/auth/me', headers: bearer(token) })).statusCode).toBe(401);
  });

  it('a user changes their own password with the current one', async () => {
    const headers = bearer(h.viewerToken);
    const wrong = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers,
      payload: { current_password: 'nope', new_password: 'viewer-password-2' },
    });
    expect(errorCode(wrong)).toBe('LF_ERR_AUTH_INVALID');
    const ok = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers,
      payload: { current_password: 'viewer-password-1', new_password: 'viewer-password-2' },
    });
    expect(ok.statusCode).toBe(204);
    await login(h.app, 'viewer', 'viewer-password-2');
  });
});

describe('login rate limit', () => {
  it('answers 429 LF_ERR_RATE_LIMITED after the limit', async () => {
    const h = await startHarness({ loginRateLimit: { max: 3, timeWindow: 60_000 } });
    try {
      // The harness logged in twice already.
      const payload = { username: 'admin', password: 'wrong-password' };
      expect((await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload })).statusCode).toBe(
        401,
      );
      const limited = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload });
      expect(limited.statusCode).toBe(429);
      expect(errorCode(limited)).toBe('LF_ERR_RATE_LIMITED');
      expect(limited.headers['retry-after']).toBeDefined();
    } finally {
      await h.close();
    }
  });
});
