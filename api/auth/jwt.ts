import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Role } from '../../storage/db/types.ts';

/** The claims LogFlow puts in its HS256 tokens. */
export interface TokenClaims {
  sub: string;
  name: string;
  role: Role;
  iat: number;
  exp: number;
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function sign(data: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

export function signToken(claims: TokenClaims, secret: string): string {
  const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${sign(body, secret).toString('base64url')}`;
}

/** The claims of a valid, unexpired token signed with `secret`; null for anything else. */
export function verifyToken(token: string, secret: string, nowMs = Date.now()): TokenClaims | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  // Only our exact header: no `alg: none`, no algorithm confusion.
  if (parts[0] !== HEADER) return null;
  const given = Buffer.from(parts[2], 'base64url');
  const expected = sign(`${parts[0]}.${parts[1]}`, secret);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= nowMs) return null;
    if (typeof claims.sub !== 'string' || (claims.role !== 'admin' && claims.role !== 'viewer')) return null;
    return claims;
  } catch {
    return null;
  }
}
