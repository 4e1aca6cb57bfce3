import { randomBytes } from 'node:crypto';
import type { LogFlowConfig } from '../../common/config.ts';
import type { Database } from '../../storage/db/types.ts';
import { generatePassword, hashPassword } from './password.ts';

export const ADMIN_USERNAME = 'admin';
export const JWT_SECRET_KEY = 'internal.jwt_secret';

/**
 * Creates the first admin when the database has no users. No default password ships: it is
 * LOGFLOW_ADMIN_PASSWORD (config.adminPassword) or a generated one, passed to `print` exactly
 * once — at the start that created it. Later starts do nothing.
 */
export async function ensureAdmin(
  db: Database,
  config: Pick<LogFlowConfig, 'adminPassword'>,
  print: (message: string) => void,
): Promise<{ created: boolean; generated: boolean }> {
  if ((await db.users.count()) > 0) return { created: false, generated: false };
  const generated = !config.adminPassword;
  const password = config.adminPassword ?? generatePassword();
  try {
    await db.users.create({
      username: ADMIN_USERNAME,
      email: null,
      role: 'admin',
      password_hash: await hashPassword(password),
    });
  } catch (err) {
    // Another instance created it first (LF_ERR_CONFLICT): it printed the password, not us.
    if ((err as { code?: string }).code === 'LF_ERR_CONFLICT') return { created: false, generated: false };
    throw err;
  }
  if (generated) {
    print(
      `LogFlow created the first admin. Username: ${ADMIN_USERNAME}  Password: ${password}\n` +
        'This password is shown only once; change it with POST /api/v1/auth/password.',
    );
  } else {
    print(
      `LogFlow created the first admin "${ADMIN_USERNAME}" with the password from LOGFLOW_ADMIN_PASSWORD.`,
    );
  }
  return { created: true, generated };
}

/**
 * The token-signing secret: LOGFLOW_JWT_SECRET when set, else one generated once and kept in
 * system_config (an `internal.` key the API never shows), shared by every API instance.
 */
export async function resolveJwtSecret(
  db: Database,
  config: Pick<LogFlowConfig, 'jwtSecret'>,
): Promise<string> {
  if (config.jwtSecret) return config.jwtSecret;
  const stored = await db.systemConfig.setIfAbsent(JWT_SECRET_KEY, randomBytes(32).toString('base64url'));
  return String(stored);
}
