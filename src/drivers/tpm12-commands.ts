/**
 * The TPM 1.2 commands the drivers send (TPM 1.2 Main Part 3; layouts facts §2.1, §2.2, §2.4).
 * Big-endian throughout.
 */
import { BeWriter, u32be } from '../bytes/index.js';

export const TPM12_TAG = { RQU_COMMAND: 0x00c1, RSP_COMMAND: 0x00c4 } as const;
export const TPM12_ORD = {
  Extend: 0x00000014,
  PcrRead: 0x00000015,
  SHA1Start: 0x000000a0,
  SHA1Update: 0x000000a1,
  SHA1CompleteExtend: 0x000000a3,
} as const;
/** Response/command header: tag u16, paramSize u32, ordinal or returnCode u32. */
export const TPM12_HEADER_SIZE = 10;
/** SHA1CompleteExtend carries at most 64 bytes (facts §2.5). */
export const TPM12_SHA1_COMPLETE_MAX = 64;
export const SHA1_BLOCK = 64;

function cmd12(ordinal: number, body: (w: BeWriter) => void): Uint8Array {
  const w = new BeWriter().u16(TPM12_TAG.RQU_COMMAND).u32(0).u32(ordinal);
  body(w);
  return w.patchU32(2, w.length).finish();
}

/** TPM_SHA1Start: 10 → 14 bytes (maxNumBytes u32). */
export function sha1Start12(): Uint8Array {
  return cmd12(TPM12_ORD.SHA1Start, () => undefined);
}
/** TPM_SHA1Update(numBytes, hashData). */
export function sha1Update12(data: Uint8Array): Uint8Array {
  return cmd12(TPM12_ORD.SHA1Update, (w) => w.u32(data.length).bytes(data));
}
/** TPM_SHA1CompleteExtend(pcrNum, hashDataSize, hashData[0..64]) → hashValue[20], outDigest[20]. */
export function sha1CompleteExtend12(pcr: number, data: Uint8Array): Uint8Array {
  return cmd12(TPM12_ORD.SHA1CompleteExtend, (w) => w.u32(pcr).u32(data.length).bytes(data));
}
/** TPM_PcrRead(pcrIndex) → outDigest[20]. */
export function pcrRead12(pcr: number): Uint8Array {
  return cmd12(TPM12_ORD.PcrRead, (w) => w.u32(pcr));
}

/** returnCode of a response (bytes 6..9); DRIVER-visible only if the header is there. */
export function responseCode(rsp: Uint8Array): number {
  return u32be(rsp, 6);
}
