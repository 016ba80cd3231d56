import type { Locality } from '../tpm/engine.js';
import type { Session } from '../sessions/session.js';
export interface TpmHashOutcome { rc: number; hashValue?: Uint8Array; digests?: { algId: number; digest: Uint8Array }[] }
export interface TpmHashStream { update(chunk: Uint8Array): void; finish(): TpmHashOutcome }
export function openTpmHashStream(_s: Session, _l: Locality, _p: number): TpmHashStream { throw new Error('todo'); }
