/**
 * Transient object slots holding hash and event sequence objects (TPM 2.0 Library Part 3
 * §17.3–17.6; libtpms 0.9.2 `Object.c`). MAX_LOADED_OBJECTS = 3 slots; the handle
 * of slot i is TRANSIENT_FIRST + i, so the lowest free slot gives 0x80000000, 0x80000001, ...
 *
 * A sequence keeps the midstate of each hash it runs (a small byte string, src/hash/resumable.ts),
 * not the data: the TPM's state stays plain data of a fixed size however much a sequence was fed.
 */
import { bytesEqual } from '../bytes/index.js';
import type { BankName } from '../hash/index.js';
import { finalDigest, initialState, updateState } from '../hash/resumable.js';
import { LIMITS } from './constants.js';

export interface SequenceObject {
  /** 'hash': one algorithm; 'event': every implemented algorithm (HashSequenceStart(TPM_ALG_NULL)). */
  kind: 'hash' | 'event';
  /** TPM_ALG_ID for a hash sequence, TPM_ALG_NULL (0x0010) for an event sequence. */
  hashAlg: number;
  /** authValue with trailing zeros removed. */
  auth: Uint8Array;
  /** Midstate per algorithm hashed: the one of a hash sequence, every implemented one for an event sequence. */
  states: Map<BankName, Uint8Array>;
  /** libtpms attributes.firstBlock / ticketSafe (hash-check ticket eligibility). */
  firstBlock: boolean;
  ticketSafe: boolean;
}

export function newSequence(kind: SequenceObject['kind'], hashAlg: number, auth: Uint8Array, banks: readonly BankName[]): SequenceObject {
  return { kind, hashAlg, auth: stripTrailingZeros(auth), states: new Map(banks.map((b) => [b, initialState(b)])), firstBlock: false, ticketSafe: false };
}

/** Feed `data` to every hash of the sequence. */
export function sequenceUpdate(s: SequenceObject, data: Uint8Array): void {
  for (const [bank, state] of s.states) s.states.set(bank, updateState(bank, state, data));
}

/** The digest of everything the sequence was fed, in `bank`. */
export function sequenceDigest(s: SequenceObject, bank: BankName): Uint8Array {
  const state = s.states.get(bank);
  if (!state) throw new Error(`engine bug: the sequence does not hash ${bank}`);
  return finalDigest(bank, state);
}

/** MemoryRemoveTrailingZeros: passwords compare without trailing zero bytes. */
export function stripTrailingZeros(v: Uint8Array): Uint8Array {
  let n = v.length;
  while (n > 0 && v[n - 1] === 0) n--;
  return v.slice(0, n);
}

export function authMatches(given: Uint8Array, expected: Uint8Array): boolean {
  return bytesEqual(stripTrailingZeros(given), stripTrailingZeros(expected));
}

export class ObjectSlots {
  constructor(readonly slots: (SequenceObject | null)[] = Array.from({ length: LIMITS.MAX_LOADED_OBJECTS }, () => null)) {}

  /** FindEmptyObjectSlot: lowest free slot, or undefined (→ TPM_RC_OBJECT_MEMORY). */
  allocate(obj: SequenceObject): number | undefined {
    const i = this.slots.indexOf(null);
    if (i < 0) return undefined;
    this.slots[i] = obj;
    return LIMITS.TRANSIENT_FIRST + i;
  }

  get(handle: number): SequenceObject | undefined {
    const i = handle - LIMITS.TRANSIENT_FIRST;
    if (i < 0 || i >= this.slots.length) return undefined;
    return this.slots[i] ?? undefined;
  }

  isPresent(handle: number): boolean {
    return this.get(handle) !== undefined;
  }

  flush(handle: number): void {
    const i = handle - LIMITS.TRANSIENT_FIRST;
    if (i >= 0 && i < this.slots.length) this.slots[i] = null;
  }

  /** Loaded handles in ascending order. */
  handles(): number[] {
    const out: number[] = [];
    this.slots.forEach((s, i) => {
      if (s) out.push(LIMITS.TRANSIENT_FIRST + i);
    });
    return out;
  }

  get free(): number {
    return this.slots.filter((s) => s === null).length;
  }

  clear(): void {
    this.slots.fill(null);
  }
}
