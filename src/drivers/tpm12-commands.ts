/**
 * The TPM 1.2 commands the drivers send (TPM 1.2 Main Part 3; ordinals Part 2 §17;
 * parsing as libtpms `tpm_pcr.c` / `tpm_cryptoh.c`).
 * Big-endian throughout.
 */
import { BeWriter, u32be } from '../bytes/index.js';
import { TPM12_HEADER_SIZE, TPM_ORD, TPM_TAG } from '../tpm12/constants.js';

export { TPM12_HEADER_SIZE };
/** SHA1CompleteExtend carries at most 64 bytes (TPM Main 1.2 Part 3 §13.4; libtpms `TPM_SHA1CompleteCommon`). */
export const TPM12_SHA1_COMPLETE_MAX = 64;
export const SHA1_BLOCK = 64;

function cmd12(ordinal: number, body: (w: BeWriter) => void): Uint8Array {
  const w = new BeWriter().u16(TPM_TAG.RQU_COMMAND).u32(0).u32(ordinal);
  body(w);
  return w.patchU32(2, w.length).finish();
}

/** TPM_SHA1Start: 10 → 14 bytes (maxNumBytes u32). */
export function sha1Start12(): Uint8Array {
  return cmd12(TPM_ORD.SHA1Start, () => undefined);
}
/** TPM_SHA1Update(numBytes, hashData). */
export function sha1Update12(data: Uint8Array): Uint8Array {
  return cmd12(TPM_ORD.SHA1Update, (w) => w.u32(data.length).bytes(data));
}
/** TPM_SHA1CompleteExtend(pcrNum, hashDataSize, hashData[0..64]) → hashValue[20], outDigest[20]. */
export function sha1CompleteExtend12(pcr: number, data: Uint8Array): Uint8Array {
  return cmd12(TPM_ORD.SHA1CompleteExtend, (w) => w.u32(pcr).u32(data.length).bytes(data));
}
/** TPM_PcrRead(pcrIndex) → outDigest[20]. */
export function pcrRead12(pcr: number): Uint8Array {
  return cmd12(TPM_ORD.PcrRead, (w) => w.u32(pcr));
}
/** TPM_Extend(pcrNum, inDigest[20]) → outDigest[20]: the seed's 64-bit path (TPM Main 1.2 Part 3 §16.1). */
export function extend12(pcr: number, digest: Uint8Array): Uint8Array {
  return cmd12(TPM_ORD.Extend, (w) => w.u32(pcr).bytes(digest));
}
/** returnCode of a response (bytes 6..9; TPM 2.0 responseCode sits at the same place). */
export function responseCode(rsp: Uint8Array): number {
  return rsp.length >= TPM12_HEADER_SIZE ? u32be(rsp, 6) : 0xffffffff;
}
