import type {} from '@fastify/rate-limit'; // adds config.rateLimit to routes
import type { FastifyInstance } from 'fastify';
import { LogFlowError } from '../../common/errors.ts';
import type { Database, Role } from '../../storage/db/types.ts';
import { generateApiKey } from '../auth/api-key.ts';
import { hashPassword, verifyPassword } from '../auth/password.ts';
import { principalOf } from '../auth/plugin.ts';
import { invalid, notFound } from '../errors.ts';
import { namedPlugin } from '../plugin.ts';
import { idParam, ref } from '../schemas.ts';
import { parseTime, timeSchema } from '../time.ts';

export interface AuthRoutesOptions {
  db: Database;
  loginRateLimit: { max: number; timeWindow: number };
}

export const passwordSchema = { type: 'string', minLength: 8, maxLength: 1024 } as const;

// Compared against when the user does not exist, so a login takes as long either way.
const DUMMY_HASH = hashPassword('logflow-timing-equaliser');

export const authRoutes = namedPlugin<AuthRoutesOptions>(
  'logflow-auth-routes',
  async (app: FastifyInstance, { db, loginRateLimit }) => {
    const tags = ['auth'];

    app.post<{ Body: { username: string; password: string } }>(
      '/api/v1/auth/login',
      {
        config: {
          public: true,
          rateLimit: { max: loginRateLimit.max, timeWindow: loginRateLimit.timeWindow },
        },
        schema: {
          tags,
          summary: 'Exchange a username and password for a bearer token (rate-limited)',
          security: [],
          body: {
            type: 'object',
            required: ['username', 'password'],
            additionalProperties: false,
            properties: {
              username: { type: 'string', minLength: 1, maxLength: 64 },
              password: { type: 'string', minLength: 1, maxLength: 1024 },
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['token', 'expires_at'],
              properties: {
                token: { type: 'string' },
                expires_at: { type: 'string', format: 'date-time' },
                token_type: { type: 'string' },
                user: ref('User'),
              },
            },
          },
        },
      },
      async (request) => {
        const { username, password } = request.body;
        const user = await db.users.findByUsername(username);
        const ok = await verifyPassword(password, user?.password_hash ?? (await DUMMY_HASH));
        if (!user || !ok) throw new LogFlowError('LF_ERR_AUTH_INVALID', 'Invalid username or password');
        const now = new Date().toISOString();
        await db.users.recordLogin(user.id, now);
        return { ...app.auth.issueToken(user), token_type: 'Bearer', user: { ...user, last_login_at: now } };
      },
    );

    app.get(
      '/api/v1/auth/me',
      {
        schema: {
          tags,
          summary: 'Who the credentials belong to',
          response: {
            200: {
              type: 'object',
              properties: {
                kind: { type: 'string', enum: ['user', 'api_key'] },
                id: { type: 'integer' },
                name: { type: 'string' },
                role: { type: 'string', enum: ['admin', 'viewer'] },
              },
            },
          },
        },
      },
      async (request) => principalOf(request),
    );

    app.post<{ Body: { current_password: string; new_password: string } }>(
      '/api/v1/auth/password',
      {
        schema: {
          tags,
          summary: "Change the signed-in user's own password",
          body: {
            type: 'object',
            required: ['current_password', 'new_password'],
            additionalProperties: false,
            properties: {
              current_password: { type: 'string', maxLength: 1024 },
              new_password: passwordSchema,
            },
          },
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        if (principal.kind !== 'user')
          throw new LogFlowError('LF_ERR_FORBIDDEN', 'API keys have no password');
        const user = await db.users.get(principal.id);
        if (!user || !(await verifyPassword(request.body.current_password, user.password_hash))) {
          throw new LogFlowError('LF_ERR_AUTH_INVALID', 'The current password is wrong');
        }
        await db.users.update(user.id, { password_hash: await hashPassword(request.body.new_password) });
        return reply.code(204).send();
      },
    );

    app.get(
      '/api/v1/auth/api-keys',
      {
        config: { role: 'admin' },
        schema: {
          tags,
          summary: 'API keys (admin); secrets are never shown again after creation',
          response: {
            200: { type: 'object', properties: { api_keys: { type: 'array', items: ref('ApiKey') } } },
          },
        },
      },
      async () => ({ api_keys: await db.apiKeys.list() }),
    );

    app.post<{ Body: { name: string; role?: Role; expires_at?: string } }>(
      '/api/v1/auth/api-keys',
      {
        config: { role: 'admin' },
        schema: {
          tags,
          summary: 'Create an API key for a machine (admin); `key` is shown only in this answer',
          body: {
            type: 'object',
            required: ['name'],
            additionalProperties: false,
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 200 },
              role: { type: 'string', enum: ['admin', 'viewer'], default: 'viewer' },
              expires_at: timeSchema,
            },
          },
          response: {
            201: {
              type: 'object',
              properties: {
                id: { type: 'integer' },
                name: { type: 'string' },
                prefix: { type: 'string' },
                role: { type: 'string' },
                key: { type: 'string' },
                created_at: { type: 'string', format: 'date-time' },
                expires_at: { type: 'string', format: 'date-time', nullable: true },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const expires = request.body.expires_at ? parseTime(request.body.expires_at, 'expires_at') : null;
        if (expires !== null && expires <= Date.now()) throw invalid('expires_at must be in the future');
        const { key, prefix, hash } = generateApiKey();
        const created = await db.apiKeys.create({
          name: request.body.name,
          prefix,
          key_hash: hash,
          role: request.body.role ?? 'viewer',
          created_by: principalOf(request).name,
          expires_at: expires === null ? null : new Date(expires).toISOString(),
        });
        return reply.code(201).send({ ...created, key });
      },
    );

    app.delete<{ Params: { id: number } }>(
      '/api/v1/auth/api-keys/:id',
      {
        config: { role: 'admin' },
        schema: {
          tags,
          summary: 'Revoke an API key (admin)',
          params: idParam,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        if (!(await db.apiKeys.delete(request.params.id))) throw notFound(`API key ${request.params.id}`);
        return reply.code(204).send();
      },
    );
  },
  ['logflow-auth', '@fastify/rate-limit'],
);
