/** API keys for tests: made here, hashed as API_KEYS entries are (SHA-256 of the UTF-8 key). */
import { createHash, randomBytes } from 'node:crypto';
import { parseApiKeys } from '../../src/config.js';

export interface TestKey {
  key: string;
  entry: string;
  auth: Record<string, string>;
}

export function newTestKey(): TestKey {
  const key = `tpmm_${randomBytes(32).toString('base64url')}`;
  const entry = `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
  return { key, entry, auth: { authorization: `Bearer ${key}` } };
}

export function apiKeysOf(...keys: TestKey[]): ReturnType<typeof parseApiKeys> {
  return parseApiKeys(keys.map((k) => k.entry).join(','));
}
