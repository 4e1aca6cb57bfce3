import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LogFlowError } from '../../common/errors.ts';
import type { Database, Role } from '../../storage/db/types.ts';
import { namedPlugin } from '../plugin.ts';
import { hashApiKey } from './api-key.ts';
import { signToken, verifyToken } from './jwt.ts';

/** Who made a request: a user (JWT) or a machine (API key). */
export interface Principal {
  kind: 'user' | 'api_key';
  id: number;
  /** Username, or `apikey:<name>` for keys; recorded as `created_by`/`acknowledged_by`. */
  name: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No authentication (login). */
    public?: boolean;
    /** Only admins (writes to rules, users, config, keys, silences). */
    role?: 'admin';
    /** Also accept `?access_token=` (EventSource cannot send headers: the live tail). */
    queryToken?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    auth: {
      issueToken(user: { id: number; username: string; role: Role }): { token: string; expires_at: string };
    };
  }
}

export interface AuthOptions {
  db: Database;
  secret: () => Promise<string>;
  tokenTtlSeconds: number;
}

// Writing last_used_at on every request would turn reads into writes; once a minute is enough.
const KEY_USE_RECORD_MS = 60_000;

function credentials(request: FastifyRequest): { kind: 'jwt' | 'key'; value: string } | null {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const [scheme, value] = header.trim().split(/\s+/, 2);
    if (/^bearer$/i.test(scheme) && value) return { kind: value.startsWith('lf_') ? 'key' : 'jwt', value };
    if (/^apikey$/i.test(scheme) && value) return { kind: 'key', value };
    return { kind: 'jwt', value: '' };
  }
  const key = request.headers['x-api-key'];
  if (typeof key === 'string' && key) return { kind: 'key', value: key };
  if (request.routeOptions.config?.queryToken) {
    const token = (request.query as Record<string, unknown> | undefined)?.access_token;
    if (typeof token === 'string' && token)
      return { kind: token.startsWith('lf_') ? 'key' : 'jwt', value: token };
  }
  return null;
}

/**
 * Authentication and roles for everything under /api/: runs in onRequest, before body parsing and
 * validation, so an anonymous caller learns nothing about a route but 401.
 */
export const authPlugin = namedPlugin<AuthOptions>('logflow-auth', async (app: FastifyInstance, opts) => {
  const secret = await opts.secret();
  app.decorateRequest('principal', null);
  app.decorate('auth', {
    issueToken(user) {
      const iat = Math.floor(Date.now() / 1000);
      const exp = iat + opts.tokenTtlSeconds;
      const token = signToken(
        { sub: String(user.id), name: user.username, role: user.role, iat, exp },
        secret,
      );
      return { token, expires_at: new Date(exp * 1000).toISOString() };
    },
  });

  async function authenticate(request: FastifyRequest): Promise<Principal> {
    const given = credentials(request);
    if (!given)
      throw new LogFlowError(
        'LF_ERR_AUTH_REQUIRED',
        'Authentication required: send Authorization: Bearer <token> or X-API-Key',
      );
    if (given.kind === 'jwt') {
      const claims = verifyToken(given.value, secret);
      // The user is re-read so deleting or demoting takes effect at once, not at token expiry.
      const user = claims ? await opts.db.users.get(Number(claims.sub)) : null;
      if (!user) throw new LogFlowError('LF_ERR_AUTH_INVALID', 'Invalid or expired token');
      return { kind: 'user', id: user.id, name: user.username, role: user.role };
    }
    const key = await opts.db.apiKeys.findByHash(hashApiKey(given.value));
    const now = Date.now();
    if (!key || (key.expires_at && Date.parse(key.expires_at) <= now)) {
      throw new LogFlowError('LF_ERR_AUTH_INVALID', 'Invalid or expired API key');
    }
    if (!key.last_used_at || now - Date.parse(key.last_used_at) > KEY_USE_RECORD_MS) {
      await opts.db.apiKeys.recordUse(key.id, new Date(now).toISOString());
    }
    return { kind: 'api_key', id: key.id, name: `apikey:${key.name}`, role: key.role };
  }

  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/api/')) return;
    const config = request.routeOptions.config;
    if (config?.public) return;
    request.principal = await authenticate(request);
    if (config?.role === 'admin' && request.principal.role !== 'admin') {
      throw new LogFlowError('LF_ERR_FORBIDDEN', 'This action needs the admin role');
    }
  });
});

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new LogFlowError('LF_ERR_AUTH_REQUIRED');
  return request.principal;
}
