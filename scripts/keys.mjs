#!/usr/bin/env node
// API keys for tpm-measure (README "Security").
//   npm run keys -- new          a new random key and the API_KEYS entry for it (the key's SHA-256)
//   npm run keys -- hash < key   the API_KEYS entry of an existing key read from standard input
// The service is configured with the entries only: API_KEYS=sha256:<hex>,sha256:<hex>,…
// Hashing must match src/http/security.ts hashApiKey: SHA-256 of the key's UTF-8 bytes.
import { createHash, randomBytes } from 'node:crypto';

const entry = (key) => `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
const [cmd] = process.argv.slice(2);

if (cmd === 'new') {
  // 256 random bits, base64url: a valid RFC 6750 bearer token.
  const key = `tpmm_${randomBytes(32).toString('base64url')}`;
  process.stdout.write(`API key:        ${key}\n`);
  process.stdout.write(`API_KEYS entry: ${entry(key)}\n`);
  process.stderr.write('Give the key to the client (Authorization: Bearer <key>); configure only the entry. The key is not stored anywhere.\n');
} else if (cmd === 'hash') {
  let input = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) input += chunk;
  const key = input.trim();
  if (key === '') {
    process.stderr.write('keys hash: no key on standard input\n');
    process.exit(2);
  }
  process.stdout.write(`${entry(key)}\n`);
} else {
  process.stderr.write('usage: npm run keys -- new | npm run keys -- hash < keyfile\n');
  process.exit(2);
}
