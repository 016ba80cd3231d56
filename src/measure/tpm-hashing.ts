/**
 * `hashing=tpm`: the data goes to the TPM through the session's TIS FIFO, as the seed's early path
 * does it (TPM 1.2 SHA-1 thread, TPM Main Part 3 §13; TPM 2.0 event sequence, Part 3 §17;
 * docs/tpm-quirks.md#seed-chunking), driven by the careful
 * driver while the locality is held for the whole stream.
 */
import { FifoEventSequenceExtend, FifoSha1Extend, TisProtocolError, TisTimeoutError } from '../drivers/index.js';
import { DomainError } from '../errors.js';
import type { Locality } from '../tpm/engine.js';
import type { Session } from '../sessions/session.js';

export interface TpmHashOutcome {
  rc: number;
  /** TPM 1.2: SHA1CompleteExtend's hashValue. */
  hashValue?: Uint8Array;
  /** TPM 2.0: EventSequenceComplete's digests, in the TPM's order. */
  digests?: { algId: number; digest: Uint8Array }[];
}

export interface TpmHashStream {
  update(chunk: Uint8Array): void;
  finish(): TpmHashOutcome;
}

/** Interface failures (the locality never granted, a protocol breach) become a 409 problem. */
function guard<T>(locality: Locality, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TisTimeoutError || e instanceof TisProtocolError) {
      throw new DomainError('locality-busy', `the TIS did not let locality ${locality} run the command stream: ${e.message}`);
    }
    throw e;
  }
}

export function openTpmHashStream(session: Session, locality: Locality, pcr: number): TpmHashStream {
  if (session.family === '1.2') {
    const s = new FifoSha1Extend(session.tis, locality, pcr);
    return {
      update: (c) => guard(locality, () => s.update(c)),
      finish: () => {
        const r = guard(locality, () => s.finish());
        return { rc: r.rc, ...(r.hashValue ? { hashValue: r.hashValue } : {}) };
      },
    };
  }
  const s = new FifoEventSequenceExtend(session.tis, locality, pcr);
  return {
    update: (c) => guard(locality, () => s.update(c)),
    finish: () => {
      const r = guard(locality, () => s.finish());
      return { rc: r.rc, digests: r.digests.map((d) => ({ algId: d.algId, digest: d.digest })) };
    },
  };
}
