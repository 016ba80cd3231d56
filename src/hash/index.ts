/**
 * Hash algorithm table (TPM_ALG_ID ↔ node:crypto name ↔ digest size; TPM 2.0 Part 2 §6.3 TPM_ALG_ID),
 * and streaming multi-bank digests. Digests always come from node:crypto.
 */
import { createHash, getHashes, type Hash } from 'node:crypto';

export type BankName = 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'sm3_256';

export interface HashAlg {
  readonly name: BankName;
  /** TPM_ALG_ID */
  readonly algId: number;
  readonly size: number;
  /** node:crypto algorithm name */
  readonly nodeName: string;
}

export const TPM_ALG = {
  SHA1: 0x0004,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  NULL: 0x0010,
  SM3_256: 0x0012,
} as const;

export const HASH_ALGS: readonly HashAlg[] = [
  { name: 'sha1', algId: TPM_ALG.SHA1, size: 20, nodeName: 'sha1' },
  { name: 'sha256', algId: TPM_ALG.SHA256, size: 32, nodeName: 'sha256' },
  { name: 'sha384', algId: TPM_ALG.SHA384, size: 48, nodeName: 'sha384' },
  { name: 'sha512', algId: TPM_ALG.SHA512, size: 64, nodeName: 'sha512' },
  { name: 'sm3_256', algId: TPM_ALG.SM3_256, size: 32, nodeName: 'sm3' },
];

export const BANK_NAMES: readonly BankName[] = HASH_ALGS.map((a) => a.name);

export function algByName(name: string): HashAlg | undefined {
  return HASH_ALGS.find((a) => a.name === name);
}
export function algById(id: number): HashAlg | undefined {
  return HASH_ALGS.find((a) => a.algId === id);
}
export function mustAlg(name: BankName): HashAlg {
  const a = algByName(name);
  if (!a) throw new Error(`unknown hash ${name}`);
  return a;
}

/** Whether this Node build can compute the algorithm (SM3 needs OpenSSL support). */
export function nodeSupports(alg: HashAlg): boolean {
  return getHashes().includes(alg.nodeName);
}

export function digest(alg: BankName | HashAlg, ...parts: Uint8Array[]): Uint8Array {
  const a = typeof alg === 'string' ? mustAlg(alg) : alg;
  const h = createHash(a.nodeName);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function sha1(...parts: Uint8Array[]): Uint8Array {
  return digest('sha1', ...parts);
}

/** PCR extend: H(old ‖ value). */
export function extendValue(alg: BankName | HashAlg, old: Uint8Array, value: Uint8Array): Uint8Array {
  return digest(alg, old, value);
}

/** One stream, several banks: feed chunks once, get one digest per bank. */
export class MultiHasher {
  private readonly hashes: Map<BankName, Hash>;
  private total = 0;
  constructor(banks: readonly BankName[]) {
    this.hashes = new Map(banks.map((b) => [b, createHash(mustAlg(b).nodeName)]));
  }
  update(chunk: Uint8Array): void {
    this.total += chunk.length;
    for (const h of this.hashes.values()) h.update(chunk);
  }
  get bytes(): number {
    return this.total;
  }
  digests(): Map<BankName, Uint8Array> {
    const out = new Map<BankName, Uint8Array>();
    for (const [b, h] of this.hashes) out.set(b, new Uint8Array(h.digest()));
    return out;
  }
}
