/**
 * The command and response authorization areas (TPM 2.0 Library Part 1 §19, Part 3 §5), as libtpms
 * 0.9.2 `SessionProcess.c` processes them: RetrieveSessionData, ParseSessionBuffer,
 * CheckAuthSession, CheckPWAuthSession, CheckSessionHMAC/ComputeCommandHMAC, CheckPolicyAuthSession,
 * IncrementLockout, parameter decryption; and BuildResponseSession (nonce rolling, parameter
 * encryption, UpdateAuditSessionStatus, ComputeResponseHMAC, continueSession).
 *
 * Password sessions (TPM_RS_PW), HMAC sessions (bound or not) and policy sessions exist. No policy
 * command is implemented, so a policy session's policyDigest stays all zeros and never matches an
 * entity's (empty) authPolicy: it can serve for parameter encryption, not for authorization.
 */
import { BeWriter, bytesEqual } from '../bytes/index.js';
import { algById, digest } from '../hash/index.js';
import type { CommandContext, CommandDef } from './command.js';
import { handleType, LIMITS, TPM_HT, TPM_RH, TPM_RS_PW, TPMA_SESSION } from './constants.js';
import { boundEntity, entityAuthValue, entityName, isDaExempted } from './entity.js';
import { fault, RcFault, type TpmReader } from './marshal.js';
import { authMatches } from './objects.js';
import { inPolicyOrAuthGroup } from './pcr.js';
import { RC_1, RC_S, rcSafeAdd, TPM_RC } from './rc.js';
import { hmac, paramCrypt, SYM_ALG, type AuthSessionState } from './sessions.js';
import type { Tpm2State } from './state.js';
import { decodeTpm2bDigest } from './structures.js';

/** One session of a command's authorization area. */
export interface AuthSession {
  handle: number;
  nonceCaller: Uint8Array;
  attributes: number;
  /** hmac field: the password of a TPM_RS_PW session, else the HMAC. */
  hmac: Uint8Array;
  /** The handle it authorizes (s_associatedHandles), or undefined (TPM_RH_UNASSIGNED). */
  associated: number | undefined;
  /** Whether the entity's authValue is part of the HMAC key (session->attributes.includeAuth). */
  includeAuth: boolean;
  /** authValue of the associated entity, taken before the command runs (a sequence may be gone by the response). */
  authValue: Uint8Array;
}

/** What the command's session area established, needed again for the response. */
export interface SessionArea {
  sessions: AuthSession[];
  decrypt: number;
  encrypt: number;
  audit: number;
  /** cpHash per hash algorithm, over the parameters as received. */
  cpHashes: Map<number, Uint8Array>;
}

const NONE = -1;

function isSessionHandle(h: number): boolean {
  return (h >= LIMITS.HMAC_SESSION_FIRST && h <= LIMITS.HMAC_SESSION_LAST) || (h >= LIMITS.POLICY_SESSION_FIRST && h <= LIMITS.POLICY_SESSION_LAST);
}

/** Qualifier for session n (0-based): TPM_RC_S + (n+1) × TPM_RC_1. */
function sq(n: number): number {
  return RC_S + (n + 1) * RC_1;
}

const has = (attrs: number, bit: number): boolean => (attrs & bit) !== 0;

/** RetrieveSessionData: unmarshal and pre-check every session of the authSize-bounded area `r`. */
function retrieveSessions(r: TpmReader, def: CommandDef, state: Tpm2State): SessionArea {
  const area: SessionArea = { sessions: [], decrypt: NONE, encrypt: NONE, audit: NONE, cpHashes: new Map() };
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
    const nonceCaller = field(() => decodeTpm2bDigest(r));
    const attributes = field(() => {
      const a = r.u8();
      if ((a & TPMA_SESSION.reserved) !== 0) fault(TPM_RC.RESERVED_BITS);
      return a;
    });
    const hmacValue = field(() => decodeTpm2bDigest(r));
    area.sessions.push({ handle, nonceCaller, attributes, hmac: hmacValue, associated: undefined, includeAuth: false, authValue: new Uint8Array(0) });
    if (handle === TPM_RS_PW) {
      const forbidden = TPMA_SESSION.encrypt | TPMA_SESSION.decrypt | TPMA_SESSION.audit | TPMA_SESSION.auditExclusive | TPMA_SESSION.auditReset;
      if ((attributes & forbidden) !== 0) fault(TPM_RC.ATTRIBUTES + sq(i));
      if (nonceCaller.length !== 0) fault(TPM_RC.NONCE + sq(i));
      continue;
    }
    if (!state.sessions.isLoaded(handle)) fault(TPM_RC.REFERENCE_S0 + i);
    const session = state.sessions.get(handle);
    const isPolicyHandle = handleType(handle) === TPM_HT.POLICY_SESSION;
    if ((session.type !== 'hmac') !== isPolicyHandle) fault(TPM_RC.HANDLE + sq(i));
    for (let j = 0; j < i; j++) if (area.sessions[j]?.handle === handle) fault(TPM_RC.HANDLE + sq(i));
    if (has(attributes, TPMA_SESSION.decrypt)) {
      if (!def.decryptSize) fault(TPM_RC.ATTRIBUTES + sq(i));
      if (area.decrypt !== NONE) fault(TPM_RC.ATTRIBUTES + sq(i));
      if (session.symmetric.algorithm === SYM_ALG.NULL) fault(TPM_RC.SYMMETRIC + sq(i));
      area.decrypt = i;
    }
    if (has(attributes, TPMA_SESSION.encrypt)) {
      if (!def.encryptSize) fault(TPM_RC.ATTRIBUTES + sq(i));
      if (area.encrypt !== NONE) fault(TPM_RC.ATTRIBUTES + sq(i));
      if (session.symmetric.algorithm === SYM_ALG.NULL) fault(TPM_RC.SYMMETRIC + sq(i));
      area.encrypt = i;
    }
    if (has(attributes, TPMA_SESSION.audit)) {
      if (area.audit !== NONE) fault(TPM_RC.ATTRIBUTES + sq(i));
      if (isPolicyHandle) fault(TPM_RC.ATTRIBUTES + sq(i));
      if (!has(attributes, TPMA_SESSION.auditReset) && session.isAudit && has(attributes, TPMA_SESSION.auditExclusive) && state.exclusiveAuditSession !== handle) {
        fault(TPM_RC.EXCLUSIVE);
      }
      area.audit = i;
    }
  }
  return area;
}

/** The command being authorized: its code, handles and parameter bytes (as received). */
export interface CommandImage {
  cc: number;
  handles: readonly number[];
  params: Uint8Array;
}

/** ComputeCpHash: H(commandCode ‖ Name of every handle ‖ parameters), cached per algorithm. */
function cpHash(area: SessionArea, state: Tpm2State, cmd: CommandImage, alg: number): Uint8Array {
  let v = area.cpHashes.get(alg);
  if (!v) {
    const w = new BeWriter(64).u32(cmd.cc);
    for (const h of cmd.handles) w.bytes(entityName(state, h));
    v = hashOf(alg, w.finish(), cmd.params);
    area.cpHashes.set(alg, v);
  }
  return v;
}

function hashOf(alg: number, ...parts: Uint8Array[]): Uint8Array {
  const a = algById(alg);
  if (!a) throw new Error(`engine bug: no hash 0x${alg.toString(16)}`);
  return digest(a, ...parts);
}

/** The HMAC key of a session: sessionKey ‖ authValue when the entity's authValue is included. */
function hmacKey(session: AuthSessionState, s: AuthSession): Uint8Array {
  if (!s.includeAuth) return session.sessionKey;
  const key = new Uint8Array(session.sessionKey.length + s.authValue.length);
  key.set(session.sessionKey);
  key.set(s.authValue, session.sessionKey.length);
  return key;
}

/** ComputeCommandHMAC + CheckSessionHMAC + IncrementLockout. */
function checkSessionHmac(area: SessionArea, i: number, state: Tpm2State, cmd: CommandImage): void {
  const s = area.sessions[i] as AuthSession;
  const session = state.sessions.get(s.handle);
  const key = hmacKey(session, s);
  let expected: Uint8Array;
  if (key.length === 0 && s.hmac.length === 0) {
    expected = new Uint8Array(0);
  } else {
    // The first session, when it authorizes a handle, also covers the nonces of separate decrypt/encrypt sessions.
    const extra: Uint8Array[] = [];
    if (i === 0 && s.associated !== undefined) {
      if (area.decrypt !== NONE && area.decrypt !== i) extra.push(nonceTpmOf(area, area.decrypt, state));
      if (area.encrypt !== NONE && area.encrypt !== i && area.encrypt !== area.decrypt) extra.push(nonceTpmOf(area, area.encrypt, state));
    }
    expected = hmac(session.authHash, key, cpHash(area, state, cmd, session.authHash), s.nonceCaller, session.nonceTPM, ...extra, Uint8Array.of(s.attributes));
  }
  if (!bytesEqual(s.hmac, expected)) fault(incrementLockout(s, session, state));
}

function nonceTpmOf(area: SessionArea, i: number, state: Tpm2State): Uint8Array {
  return state.sessions.get((area.sessions[i] as AuthSession).handle).nonceTPM;
}

/**
 * IncrementLockout: the response code of a failed authorization. Every entity this TPM can
 * authorize is DA-exempt, so only a session bound to TPM_RH_LOCKOUT has DA side effects: use of
 * lockoutAuth is disabled (gp.lockOutAuthEnabled; libtpms re-enables it after lockoutRecovery
 * seconds of TPM time, which this engine does not model) and the answer is TPM_RC_AUTH_FAIL.
 */
function incrementLockout(s: AuthSession, session: AuthSessionState | undefined, state: Tpm2State): number {
  if (!session) return TPM_RC.BAD_AUTH;
  const handle = session.isLockoutBound ? TPM_RH.LOCKOUT : (s.associated ?? TPM_RH.UNASSIGNED);
  if (!session.isDaBound && (isDaExempted(handle) || !s.includeAuth)) return TPM_RC.BAD_AUTH;
  if (handle === TPM_RH.LOCKOUT) state.lockoutAuthEnabled = false;
  return TPM_RC.AUTH_FAIL;
}

/** IsAuthPolicyAvailable for this TPM's entities: only PCRs 20–22 (the policy group) have a policy slot. */
function authPolicyAvailable(handle: number): boolean {
  return handleType(handle) === TPM_HT.PCR && inPolicyOrAuthGroup(handle);
}

/** CheckAuthSession for an HMAC, policy or password session authorizing its associated handle. */
function checkAuthSession(area: SessionArea, i: number, state: Tpm2State, cmd: CommandImage): void {
  const s = area.sessions[i] as AuthSession;
  const associated = s.associated as number;
  s.authValue = entityAuthValue(state, associated);
  if (s.handle === TPM_RS_PW) {
    // CheckPWAuthSession (every entity here is DA-exempt: a wrong password is TPM_RC_BAD_AUTH).
    if (!authMatches(s.hmac, s.authValue)) fault(TPM_RC.BAD_AUTH);
    return;
  }
  const session = state.sessions.get(s.handle);
  if (session.type !== 'hmac') {
    // A policy session: this TPM's entities have no authValue-needed/password policy, so includeAuth is clear.
    s.includeAuth = false;
    if (!authPolicyAvailable(associated)) fault(TPM_RC.AUTH_UNAVAILABLE);
    // CheckPolicyAuthSession: the PCR policies are empty, the session's policyDigest is not.
    fault(TPM_RC.POLICY_FAIL);
  }
  s.includeAuth = !(session.boundEntity !== null && bytesEqual(boundEntity(state, associated), session.boundEntity));
  // Every entity here is DA-exempt and allows authValue use (IsAuthValueAvailable), and no PCR
  // has a policy (IsPolicySessionRequired).
  checkSessionHmac(area, i, state, cmd);
}

/**
 * ParseSessionBuffer: `r` is positioned after authorizationSize and limited to the authorization
 * area; `cmd.params` are the parameter bytes. Checks every session in order and returns the area.
 * Parameter decryption is left to decryptParameters (the last step of ParseSessionBuffer).
 */
export function checkSessions(r: TpmReader, def: CommandDef, cmd: CommandImage, state: Tpm2State): SessionArea {
  if (def.noSessions) fault(TPM_RC.AUTH_CONTEXT);
  const area = retrieveSessions(r, def, state);
  const { sessions } = area;
  for (let i = 0; i < def.authHandles; i++) {
    if (i > sessions.length - 1) fault(TPM_RC.AUTH_MISSING);
    (sessions[i] as AuthSession).associated = cmd.handles[i];
  }
  sessions.forEach((s, i) => {
    try {
      let session: AuthSessionState | undefined;
      if (s.handle === TPM_RS_PW) {
        if (s.associated === undefined) fault(TPM_RC.HANDLE + sq(i));
      } else {
        session = state.sessions.get(s.handle);
        if (session.type === 'trial') fault(TPM_RC.ATTRIBUTES + sq(i));
        if (session.isDaBound && session.isLockoutBound && !state.lockoutAuthEnabled) fault(TPM_RC.LOCKOUT);
        if (has(s.attributes, TPMA_SESSION.audit)) cpHash(area, state, cmd, session.authHash);
      }
      if (s.associated !== undefined) {
        checkAuthSession(area, i, state, cmd);
      } else {
        if (!has(s.attributes, TPMA_SESSION.audit | TPMA_SESSION.encrypt | TPMA_SESSION.decrypt)) fault(TPM_RC.ATTRIBUTES + sq(i));
        s.includeAuth = false;
        checkSessionHmac(area, i, state, cmd);
      }
    } catch (e) {
      // RcSafeAddToResult: a format-1 code without a qualifier gets this session's (+S n); format-0
      // codes and warnings (AUTH_UNAVAILABLE, LOCKOUT, EXCLUSIVE, REFERENCE_S0) pass unchanged.
      if (e instanceof RcFault && (e.rc & 0xf00) === 0) throw new RcFault(rcSafeAdd(e.rc, sq(i)));
      throw e;
    }
  });
  return area;
}

/** The key of parameter encryption: sessionKey ‖ authValue of the associated entity (if any). */
function paramKey(session: AuthSessionState, s: AuthSession): Uint8Array {
  if (s.associated === undefined) return session.sessionKey;
  const key = new Uint8Array(session.sessionKey.length + s.authValue.length);
  key.set(session.sessionKey);
  key.set(s.authValue, session.sessionKey.length);
  return key;
}

/**
 * CryptParameterDecryption: decrypt the first parameter (after its 2-byte size) in place, in
 * `params`. A size beyond the parameter area is TPM_RC_SIZE + the session.
 */
export function decryptParameters(area: SessionArea, state: Tpm2State, params: Uint8Array): void {
  if (area.decrypt === NONE) return;
  const s = area.sessions[area.decrypt] as AuthSession;
  const session = state.sessions.get(s.handle);
  // Fewer than 2 bytes: nothing to decrypt; unmarshalling the first parameter fails next.
  if (params.length < 2) return;
  const size = ((params[0] ?? 0) << 8) | (params[1] ?? 0);
  if (size > params.length) fault(TPM_RC.SIZE + sq(area.decrypt));
  const n = Math.min(size, params.length - 2);
  const plain = paramCrypt(session, paramKey(session, s), s.nonceCaller, session.nonceTPM, params.subarray(2, 2 + n), 'decrypt');
  params.set(plain, 2);
}

/**
 * BuildResponseSession for a successful command with sessions: roll every nonceTPM, encrypt the
 * first response parameter, update audit sessions, then write each session's nonceTPM, attributes
 * and response HMAC (rpHash = H(TPM_RC_SUCCESS ‖ commandCode ‖ parameters)); sessions without
 * continueSession are flushed. `params` may be encrypted in place.
 */
export function buildResponseSessions(w: BeWriter, area: SessionArea | null, ctx: CommandContext, cmd: CommandImage, params: Uint8Array, def: CommandDef): void {
  const { state } = ctx;
  const sessions = area?.sessions ?? [];
  if (area) {
    for (const s of sessions) {
      if (s.handle === TPM_RS_PW) continue;
      const session = state.sessions.get(s.handle);
      session.nonceTPM = ctx.random(session.nonceTPM.length);
    }
    if (area.encrypt !== NONE && params.length >= 2) {
      const s = area.sessions[area.encrypt] as AuthSession;
      const session = state.sessions.get(s.handle);
      const size = ((params[0] ?? 0) << 8) | (params[1] ?? 0);
      const n = Math.min(size, params.length - 2);
      params.set(paramCrypt(session, paramKey(session, s), session.nonceTPM, s.nonceCaller, params.subarray(2, 2 + n), 'encrypt'), 2);
    }
  }
  const rpHashes = new Map<number, Uint8Array>();
  const rpHash = (alg: number): Uint8Array => {
    let v = rpHashes.get(alg);
    if (!v) {
      v = hashOf(alg, new BeWriter(8).u32(TPM_RC.SUCCESS).u32(cmd.cc).finish(), params);
      rpHashes.set(alg, v);
    }
    return v;
  };
  // UpdateAuditSessionStatus
  let auditHandle: number = TPM_RH.UNASSIGNED;
  for (const s of sessions) {
    if (s.handle === TPM_RS_PW || !has(s.attributes, TPMA_SESSION.audit)) continue;
    const session = state.sessions.get(s.handle);
    auditHandle = s.handle;
    if (!session.isAudit || has(s.attributes, TPMA_SESSION.auditReset)) {
      session.isAudit = true;
      session.boundEntity = null;
      session.auditDigest = new Uint8Array(algById(session.authHash)?.size ?? 0);
      state.exclusiveAuditSession = s.handle;
    } else if (state.exclusiveAuditSession !== s.handle) {
      state.exclusiveAuditSession = TPM_RH.UNASSIGNED;
    }
    if (state.exclusiveAuditSession === s.handle) s.attributes |= TPMA_SESSION.auditExclusive;
    else s.attributes &= ~TPMA_SESSION.auditExclusive;
    session.auditDigest = hashOf(session.authHash, session.auditDigest, cpHash(area as SessionArea, state, cmd, session.authHash), rpHash(session.authHash));
  }
  if (auditHandle === TPM_RH.UNASSIGNED && !def.noSessions) state.exclusiveAuditSession = TPM_RH.UNASSIGNED;
  if (!area) return;
  for (const s of sessions) {
    if (s.handle === TPM_RS_PW) {
      w.u16(0).u8(s.attributes | TPMA_SESSION.continueSession).u16(0);
      continue;
    }
    const session = state.sessions.get(s.handle);
    const key = hmacKey(session, s);
    const auth =
      key.length === 0 && s.hmac.length === 0
        ? new Uint8Array(0)
        : hmac(session.authHash, key, rpHash(session.authHash), session.nonceTPM, s.nonceCaller, Uint8Array.of(s.attributes));
    // UpdateInternalSession: a continuing policy session restarts its policy (policyDigest back to zeros).
    if (session.type !== 'hmac' && has(s.attributes, TPMA_SESSION.continueSession)) session.policyDigest.fill(0);
    w.sized16(session.nonceTPM).u8(s.attributes).sized16(auth);
    // SessionFlush leaves g_exclusiveAuditSession alone (only TPM2_FlushContext clears it).
    if (!has(s.attributes, TPMA_SESSION.continueSession)) state.sessions.flush(s.handle);
  }
}
