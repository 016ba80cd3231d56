/**
 * The few TPM commands the measurement path sends itself (the seed's 64-bit path, facts §2.4,
 * §3.4, §3.7). Built big-endian, as on the wire.
 */
import { BeWriter, u32be } from '../bytes/index.js';
import { algByName, type BankName } from '../hash/index.js';

/** TPM 1.2 tags and ordinals used here (facts §2.1–§2.2). */
const TPM12 = { TAG_RQU_COMMAND: 0x00c1, ORD_Extend: 0x00000014 } as const;
/** TPM 2.0 constants used here (facts §3.1, §3.3). */
const TPM2 = { ST_SESSIONS: 0x8002, CC_PCR_Extend: 0x00000182, RS_PW: 0x40000009, RH_NULL: 0x40000007 } as const;

/** TPM_Extend(pcrNum, inDigest) — 34 bytes. */
export function tpm12Extend(pcr: number, digest: Uint8Array): Uint8Array {
  return new BeWriter(34).u16(TPM12.TAG_RQU_COMMAND).u32(34).u32(TPM12.ORD_Extend).u32(pcr).bytes(digest).finish();
}

/** Empty-password TPM_RS_PW authorization area: 9 bytes (facts §3.3). */
function pwSession(w: BeWriter): BeWriter {
  return w.u32(TPM2.RS_PW).u16(0).u8(0).u16(0);
}

/** TPM2_PCR_Extend(pcrHandle, TPML_DIGEST_VALUES) with one PW session (facts §3.4). */
export function tpm2PcrExtend(pcrHandle: number, digests: readonly { bank: BankName; digest: Uint8Array }[]): Uint8Array {
  const w = new BeWriter(128).u16(TPM2.ST_SESSIONS).u32(0).u32(TPM2.CC_PCR_Extend).u32(pcrHandle).u32(9);
  pwSession(w).u32(digests.length);
  for (const d of digests) {
    const alg = algByName(d.bank);
    if (!alg) throw new Error(`unknown bank ${d.bank}`);
    w.u16(alg.algId).bytes(d.digest);
  }
  return w.patchU32(2, w.length).finish();
}

export const TPM2_RH_NULL = TPM2.RH_NULL;

/** Return code of a TPM response (bytes 6..9, both families). */
export function responseCode(rsp: Uint8Array): number {
  return rsp.length >= 10 ? u32be(rsp, 6) : 0xffffffff;
}
