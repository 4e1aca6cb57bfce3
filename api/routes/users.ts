import type { FastifyInstance } from 'fastify';
import { LogFlowError } from '../../common/errors.ts';
import type { Database, Role, User } from '../../storage/db/types.ts';
import { hashPassword } from '../auth/password.ts';
import { principalOf } from '../auth/plugin.ts';
import { notFound } from '../errors.ts';
import { namedPlugin } from '../plugin.ts';
import { idParam, ref } from '../schemas.ts';
import { passwordSchema } from './auth.ts';

/** Never the hash. */
export function publicUser(u: User): Omit<User, 'password_hash'> {
  const { password_hash: _hash, ...rest } = u;
  return rest;
}

const email = { type: 'string', maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$', nullable: true } as const;
const role = { type: 'string', enum: ['admin', 'viewer'] } as const;

/** Users CRUD, admins only. The last admin can be neither deleted nor demoted. */
export const usersRoutes = namedPlugin<{ db: Database }>(
  'logflow-users-routes',
  async (app: FastifyInstance, { db }) => {
    const tags = ['users'];
    const admin = { role: 'admin' as const };

    async function guardLastAdmin(user: User, nextRole: Role | null): Promise<void> {
      if (user.role === 'admin' && nextRole !== 'admin' && (await db.users.count('admin')) <= 1) {
        throw new LogFlowError('LF_ERR_CONFLICT', 'The last admin cannot be removed or demoted');
      }
    }

    app.get(
      '/api/v1/users',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Every user (admin)',
          response: { 200: { type: 'object', properties: { users: { type: 'array', items: ref('User') } } } },
        },
      },
      async () => ({ users: (await db.users.list()).map(publicUser) }),
    );

    app.post<{ Body: { username: string; password: string; role: Role; email?: string | null } }>(
      '/api/v1/users',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Create a user (admin)',
          body: {
            type: 'object',
            required: ['username', 'password', 'role'],
            additionalProperties: false,
            properties: {
              username: { type: 'string', pattern: '^[A-Za-z0-9_.-]{3,64}$' },
              password: passwordSchema,
              role,
              email,
            },
          },
          response: { 201: ref('User') },
        },
      },
      async (request, reply) => {
        const { username, password, email: mail, role: r } = request.body;
        const user = await db.users.create({
          username,
          email: mail ?? null,
          role: r,
          password_hash: await hashPassword(password),
        });
        return reply.code(201).send(publicUser(user));
      },
    );

    app.get<{ Params: { id: number } }>(
      '/api/v1/users/:id',
      {
        config: admin,
        schema: { tags, summary: 'One user (admin)', params: idParam, response: { 200: ref('User') } },
      },
      async (request) => {
        const user = await db.users.get(request.params.id);
        if (!user) throw notFound(`User ${request.params.id}`);
        return publicUser(user);
      },
    );

    app.patch<{ Params: { id: number }; Body: { password?: string; role?: Role; email?: string | null } }>(
      '/api/v1/users/:id',
      {
        config: admin,
        schema: {
          tags,
          summary: "Change a user's role, email or password (admin)",
          params: idParam,
          body: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: { password: passwordSchema, role, email },
          },
          response: { 200: ref('User') },
        },
      },
      async (request) => {
        const user = await db.users.get(request.params.id);
        if (!user) throw notFound(`User ${request.params.id}`);
        if (request.body.role) await guardLastAdmin(user, request.body.role);
        const updated = await db.users.update(user.id, {
          ...(request.body.role ? { role: request.body.role } : {}),
          ...(request.body.email !== undefined ? { email: request.body.email } : {}),
          ...(request.body.password ? { password_hash: await hashPassword(request.body.password) } : {}),
        });
        if (!updated) throw notFound(`User ${request.params.id}`);
        return publicUser(updated);
      },
    );

    app.delete<{ Params: { id: number } }>(
      '/api/v1/users/:id',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Delete a user (admin)',
          params: idParam,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        const user = await db.users.get(request.params.id);
        if (!user) throw notFound(`User ${request.params.id}`);
        const me = principalOf(request);
        if (me.kind === 'user' && me.id === user.id) {
          throw new LogFlowError('LF_ERR_CONFLICT', 'You cannot delete yourself');
        }
        await guardLastAdmin(user, null);
        await db.users.delete(user.id);
        return reply.code(204).send();
      },
    );
  },
  ['logflow-auth'],
);
