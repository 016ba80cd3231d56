/**
 * Hashes whose running state is a small byte string (hash-wasm `save()`/`load()`: 116 bytes for
 * SHA-256): a TPM 2.0 hash or event sequence keeps this midstate instead of the data it was fed, so
 * the TPM's state — and the cost of checkpointing it — stays the same size however much was hashed.
 * One hasher per algorithm serves every state (JavaScript runs one update at a time).
 */
import { createSHA1, createSHA256, createSHA384, createSHA512, createSM3, type IHasher } from 'hash-wasm';
import type { BankName } from './index.js';

const HASHERS: Record<BankName, IHasher> = {
  sha1: await createSHA1(),
  sha256: await createSHA256(),
  sha384: await createSHA384(),
  sha512: await createSHA512(),
  sm3_256: await createSM3(),
};

function hasher(bank: BankName): IHasher {
  return HASHERS[bank];
}

/** The state of a hash that has seen nothing. */
export function initialState(bank: BankName): Uint8Array {
  const h = hasher(bank);
  h.init();
  return h.save();
}

/** The state after `state` has also seen `data`. */
export function updateState(bank: BankName, state: Uint8Array, data: Uint8Array): Uint8Array {
  const h = hasher(bank);
  h.load(state);
  h.update(data);
  return h.save();
}

/** The digest of everything `state` has seen (the state itself is left as it was). */
export function finalDigest(bank: BankName, state: Uint8Array): Uint8Array {
  const h = hasher(bank);
  h.load(state);
  return h.digest('binary');
}
