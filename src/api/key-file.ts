import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

import { dataDirectoryPath } from '../../base/data-directory.ts';
import { writeFileDurably } from '../../base/durable-file.ts';
import { ConfigError } from '../../base/errors.ts';
import { ApiKeyListSchema, type EngineConfig } from '../config.ts';
import { fieldIssues } from '../validation.ts';
import type { ApiKey } from './auth.ts';

/**
 * Keys for a server started without any configured: one admin key, created in the data directory on
 * first start (readable by its owner only) and reused afterwards, so `npm start` works in one command
 * without running open. Configured keys (API_KEYS) take precedence.
 */
export function ensureApiKeys(config: EngineConfig): { config: EngineConfig; created: ApiKey | null; file: string } {
  const file = dataDirectoryPath(config.dataDir, 'apiKeys');
  if (config.api.auth !== 'keys' || config.api.keys.length > 0) return { config, created: null, file };
  if (existsSync(file)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError([{ path: file, message: (error as Error).message }]);
    }
    const parsed = ApiKeyListSchema.safeParse(raw);
    if (!parsed.success) throw new ConfigError(fieldIssues(parsed.error, file));
    return { config: { ...config, api: { ...config.api, keys: parsed.data } }, created: null, file };
  }
  const admin: ApiKey = { name: 'admin', key: randomBytes(24).toString('base64url'), roles: ['admin'] };
  // Whole or not at all: a half-written file (full disk) would stop every later start with a parse error.
  writeFileDurably(file, Buffer.from(`${JSON.stringify([admin], null, 2)}\n`), 0o600);
  return { config: { ...config, api: { ...config.api, keys: [admin] } }, created: admin, file };
}
