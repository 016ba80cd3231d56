/**
 * TPM2_StartAuthSession (TPM 2.0 Library Part 3 §11.1; libtpms 0.9.2 `SessionCommands.c`,
 * `Session.c` SessionCreate). This TPM has no asymmetric keys: a loaded tpmKey can only be a
 * sequence object, which is no asymmetric key (TPM_RC_KEY), so sessions are unsalted. A bound
 * session's key is KDFa(authHash, authValue(bind), "ATH", nonceTPM, nonceCaller, digest bits);
 * an unbound, unsalted session has an empty key (Part 1 §19.6.8).
 */
import type { CommandDef } from '../command.js';
import { TPM_CC, TPM_RH } from '../constants.js';
import { boundEntity, entityAuthValue, isDaExempted } from '../entity.js';
import { fault } from '../marshal.js';
import { RC_1, RC_H, RC_P, TPM_RC } from '../rc.js';
import { digestSize, kdfa, SYM_ALG, TPM_SE, type AuthSessionState } from '../sessions.js';
import { decodeAlgHash, decodeSymDef, decodeTpm2b, decodeTpm2bDigest } from '../structures.js';

/** sizeof(TPMU_ENCRYPTED_SECRET) in libtpms 0.9.2: an RSA-3072 secret (384 bytes) is the largest member. */
export const MAX_ENCRYPTED_SECRET = 384;

function decodeSe(r: Parameters<typeof decodeTpm2bDigest>[0]): number {
  const v = r.u8();
  if (v !== TPM_SE.HMAC && v !== TPM_SE.POLICY && v !== TPM_SE.TRIAL) fault(TPM_RC.VALUE);
  return v;
}

export const StartAuthSession: CommandDef = {
  cc: TPM_CC.StartAuthSession,
  name: 'TPM2_StartAuthSession',
  handles: ['TPMI_DH_OBJECT+', 'TPMI_DH_ENTITY+'],
  authHandles: 0,
  tpmaCc: 0x14000176,
  decryptSize: 2,
  encryptSize: 2,
  prepare(p, state) {
    const nonceCaller = p.next(decodeTpm2bDigest);
    const encryptedSalt = p.next((r) => decodeTpm2b(r, MAX_ENCRYPTED_SECRET));
    const sessionType = p.next(decodeSe);
    const symmetric = p.next((r) => decodeSymDef(r, state.suite));
    const authHash = p.next((r) => decodeAlgHash(r, state.suite, false));
    return (ctx, [tpmKey = TPM_RH.NULL, bind = TPM_RH.NULL]) => {
      const size = digestSize(authHash);
      if (nonceCaller.length < 16 || nonceCaller.length > size) fault(TPM_RC.SIZE + RC_P + RC_1);
      // The only loadable objects are sequences: not asymmetric keys.
      if (tpmKey !== TPM_RH.NULL) fault(TPM_RC.KEY + RC_H + RC_1);
      if (encryptedSalt.length !== 0) fault(TPM_RC.VALUE + RC_P + 2 * RC_1);
      // A block cipher must use CFB.
      if (symmetric.algorithm !== SYM_ALG.NULL && symmetric.algorithm !== SYM_ALG.XOR && symmetric.mode !== SYM_ALG.CFB) fault(TPM_RC.MODE + RC_P + 4 * RC_1);
      const { state: s } = ctx;
      if (s.sessions.freeSlots === 0) fault(TPM_RC.SESSION_MEMORY);
      const type: AuthSessionState['type'] = sessionType === TPM_SE.HMAC ? 'hmac' : sessionType === TPM_SE.POLICY ? 'policy' : 'trial';
      const nonceTPM = ctx.random(nonceCaller.length);
      let sessionKey: Uint8Array = new Uint8Array(0);
      if (bind !== TPM_RH.NULL) sessionKey = kdfa(authHash, entityAuthValue(s, bind), 'ATH', nonceTPM, nonceCaller, size * 8);
      const isDaBound = bind !== TPM_RH.NULL && !isDaExempted(bind);
      const session: AuthSessionState = {
        type,
        authHash,
        nonceTPM,
        sessionKey,
        symmetric,
        boundEntity: bind !== TPM_RH.NULL && type === 'hmac' ? boundEntity(s, bind) : null,
        isDaBound,
        isLockoutBound: isDaBound && bind === TPM_RH.LOCKOUT,
        policyDigest: new Uint8Array(type === 'hmac' ? 0 : size),
        isAudit: false,
        auditDigest: new Uint8Array(0),
      };
      const handle = s.sessions.create(session);
      if (handle === 'memory') fault(TPM_RC.SESSION_MEMORY);
      if (handle === 'handles') fault(TPM_RC.SESSION_HANDLES);
      return { handle, write: (w) => w.sized16(nonceTPM) };
    };
  },
};
