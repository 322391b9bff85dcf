import { createHash, timingSafeEqual } from 'node:crypto';

import type { ApiRole, EngineConfig } from '../config.ts';
import { HttpProblem } from './problem.ts';

/**
 * API keys with roles. A presented key is hashed and compared with every configured key's hash in
 * constant time (no early exit), so response times say nothing about how much of a key was right.
 */
export type ApiKey = EngineConfig['api']['keys'][number];

export interface Caller {
  /** The key's name (never the key), or `development` without auth. */
  readonly name: string;
  readonly roles: ReadonlySet<ApiRole>;
}

/** admin may do everything; analyst also reads. */
const IMPLIED: Record<ApiRole, readonly ApiRole[]> = {
  admin: ['admin', 'analyst', 'read', 'ingest'],
  analyst: ['analyst', 'read'],
  read: ['read'],
  ingest: ['ingest'],
};

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

export class ApiKeyring {
  private readonly entries: ReadonlyArray<{ name: string; digest: Buffer; roles: ReadonlySet<ApiRole> }>;

  constructor(keys: readonly ApiKey[]) {
    this.entries = keys.map((k) => ({ name: k.name, digest: digest(k.key), roles: new Set(k.roles.flatMap((r) => IMPLIED[r])) }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The caller a key belongs to, or null. */
  identify(presented: string): Caller | null {
    const candidate = digest(presented);
    let found: Caller | null = null;
    for (const entry of this.entries) {
      if (timingSafeEqual(candidate, entry.digest) && found === null) found = { name: entry.name, roles: entry.roles };
    }
    return found;
  }
}

export const DEVELOPMENT_CALLER: Caller = { name: 'development', roles: new Set(IMPLIED.admin) };

/** The key from `Authorization: Bearer …` or `X-API-Key`. */
export function presentedKey(headers: { authorization?: string | undefined; 'x-api-key'?: string | string[] | undefined }): string | null {
  // RFC 9110: the scheme name is case-insensitive (bearer, BEARER), and one or more spaces follow it.
  const bearer = headers.authorization?.match(/^bearer +(.*)$/i);
  if (bearer) return bearer[1]!.trim() || null;
  const header = headers['x-api-key'];
  return (Array.isArray(header) ? header[0] : header) || null;
}

/** Throws 401 without a valid key, 403 when the key lacks `role`. */
export function authorise(keyring: ApiKeyring | null, key: string | null, role: ApiRole): Caller {
  if (keyring === null) return DEVELOPMENT_CALLER;
  if (key === null)
    throw new HttpProblem(401, 'Unauthorized', 'an API key is required: send it as "Authorization: Bearer <key>" or "X-API-Key"', {
      'WWW-Authenticate': 'Bearer',
    });
  const caller = keyring.identify(key);
  if (!caller) throw new HttpProblem(401, 'Unauthorized', 'the API key is not valid', { 'WWW-Authenticate': 'Bearer' });
  if (!caller.roles.has(role)) throw new HttpProblem(403, 'Forbidden', `this key (${caller.name}) lacks the ${role} role`);
  return caller;
}
