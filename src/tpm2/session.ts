/**
 * The command authorization area (TPM 2.0 Library Part 1 §18, Part 3 §5), checked
 * as libtpms 0.9.2 `SessionProcess.c` does (RetrieveSessionData, ParseSessionBuffer,
 * CheckAuthSession, CheckPWAuthSession). Only password sessions (TPM_RS_PW) exist in this TPM:
 * an HMAC or policy session handle is never loaded (TPM_RC_REFERENCE_S0 + index).
 */
import type { BeWriter } from '../bytes/index.js';
import type { CommandDef } from './command.js';
import { handleType, LIMITS, TPM_HT, TPM_RS_PW, TPMA_SESSION } from './constants.js';
import { fault, RcFault, type TpmReader } from './marshal.js';
import { authMatches } from './objects.js';
import { RC_1, RC_S, rcSafeAdd, TPM_RC } from './rc.js';
import type { Tpm2State } from './state.js';
import { decodeTpm2bDigest } from './structures.js';

export interface AuthSession {
  handle: number;
  attributes: number;
  hmac: Uint8Array;
}

const PW_FORBIDDEN = TPMA_SESSION.encrypt | TPMA_SESSION.decrypt | TPMA_SESSION.audit | TPMA_SESSION.auditExclusive | TPMA_SESSION.auditReset;

function isSessionHandle(h: number): boolean {
  return (h >= LIMITS.HMAC_SESSION_FIRST && h <= LIMITS.HMAC_SESSION_LAST) || (h >= LIMITS.POLICY_SESSION_FIRST && h <= LIMITS.POLICY_SESSION_LAST);
}

/** Qualifier for session n (0-based): TPM_RC_S + (n+1) × TPM_RC_1. */
function sq(n: number): number {
  return RC_S + (n + 1) * RC_1;
}

/** RetrieveSessionData: unmarshal every session of the authSize-bounded area `r`. */
function retrieveSessions(r: TpmReader): AuthSession[] {
  const out: AuthSession[] = [];
  for (let i = 0; r.remaining > 0; i++) {
    if (i === LIMITS.MAX_SESSION_NUM) fault(TPM_RC.SIZE + sq(i));
    const field = <T>(read: () => T): T => {
      try {
        return read();
      } catch (e) {
        if (e instanceof RcFault) throw new RcFault(e.rc + sq(i));
        throw e;
      }
    };
    const handle = field(() => {
      const h = r.u32();
      if (h !== TPM_RS_PW && !isSessionHandle(h)) fault(TPM_RC.VALUE);
      return h;
    });
    const nonce = field(() => decodeTpm2bDigest(r));
    const attributes = field(() => {
      const a = r.u8();
      if ((a & TPMA_SESSION.reserved) !== 0) fault(TPM_RC.RESERVED_BITS);
      return a;
    });
    const hmac = field(() => decodeTpm2bDigest(r));
    if (handle === TPM_RS_PW) {
      if ((attributes & PW_FORBIDDEN) !== 0) fault(TPM_RC.ATTRIBUTES + sq(i));
      if (nonce.length !== 0) fault(TPM_RC.NONCE + sq(i));
    } else {
      fault(TPM_RC.REFERENCE_S0 + i);
    }
    out.push({ handle, attributes, hmac });
  }
  return out;
}

/** EntityGetAuthValue for the entities this TPM has: PCRs, hierarchies (all empty), sequences. */
function authValueOf(state: Tpm2State, handle: number): Uint8Array {
  if (handleType(handle) === TPM_HT.TRANSIENT) return state.objects.get(handle)?.auth ?? new Uint8Array(0);
  return new Uint8Array(0);
}

/**
 * ParseSessionBuffer: `r` is positioned after authorizationSize and limited to the
 * authorization area. Returns the sessions, or throws the libtpms response code.
 */
export function checkSessions(r: TpmReader, def: CommandDef, handles: readonly number[], state: Tpm2State): AuthSession[] {
  if (def.noSessions) fault(TPM_RC.AUTH_CONTEXT);
  const sessions = retrieveSessions(r);
  for (let i = 0; i < def.authHandles; i++) if (i > sessions.length - 1) fault(TPM_RC.AUTH_MISSING);
  sessions.forEach((s, i) => {
    const associated = i < def.authHandles ? handles[i] : undefined;
    if (associated === undefined) fault(TPM_RC.HANDLE + sq(i));
    // Password check (every entity here is DA-exempt: a wrong password is TPM_RC_BAD_AUTH).
    if (!authMatches(s.hmac, authValueOf(state, associated))) fault(rcSafeAdd(TPM_RC.BAD_AUTH, sq(i)));
  });
  return sessions;
}

/** Response authorization area for password sessions: empty nonce, continueSession set, empty hmac. */
export function encodeResponseSessions(w: BeWriter, sessions: readonly AuthSession[]): void {
  for (const s of sessions) w.u16(0).u8(s.attributes | TPMA_SESSION.continueSession).u16(0);
}
