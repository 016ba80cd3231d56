/**
 * TPM 1.2 command builders for tests (TPM Main 1.2 Part 3 layouts). Big-endian, 10-byte header.
 */
import { BeWriter, concatBytes, toHex } from '../../../src/bytes/index.js';
import { TPM_ORD, TPM_TAG } from '../../../src/tpm12/index.js';

export function cmd(ordinal: number, body: Uint8Array = new Uint8Array(0), tag: number = TPM_TAG.RQU_COMMAND): Uint8Array {
  return new BeWriter(10 + body.length).u16(tag).u32(10 + body.length).u32(ordinal).bytes(body).finish();
}
/** A command whose paramSize field says `paramSize` whatever its real length. */
export function rawCmd(tag: number, paramSize: number, ordinal: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  return new BeWriter(10 + body.length).u16(tag).u32(paramSize).u32(ordinal).bytes(body).finish();
}
export const u32 = (v: number): Uint8Array => new BeWriter(4).u32(v).finish();
export const u16 = (v: number): Uint8Array => new BeWriter(2).u16(v).finish();
export const fill = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);
export const cat = concatBytes;
export const hex = toHex;

export const startup = (type: number): Uint8Array => cmd(TPM_ORD.Startup, u16(type));
export const pcrRead = (pcr: number): Uint8Array => cmd(TPM_ORD.PcrRead, u32(pcr));
export const extend = (pcr: number, digest: Uint8Array): Uint8Array => cmd(TPM_ORD.Extend, cat(u32(pcr), digest));
export const pcrReset = (sizeOfSelect: number, select: Uint8Array): Uint8Array =>
  cmd(TPM_ORD.PCR_Reset, cat(u16(sizeOfSelect), select));
export const sha1Start = (): Uint8Array => cmd(TPM_ORD.SHA1Start);
export const sha1Update = (data: Uint8Array, announced = data.length): Uint8Array =>
  cmd(TPM_ORD.SHA1Update, cat(u32(announced), data));
export const sha1Complete = (data: Uint8Array, announced = data.length): Uint8Array =>
  cmd(TPM_ORD.SHA1Complete, cat(u32(announced), data));
export const sha1CompleteExtend = (pcr: number, data: Uint8Array, announced = data.length): Uint8Array =>
  cmd(TPM_ORD.SHA1CompleteExtend, cat(u32(pcr), u32(announced), data));
export const getCapability = (area: number, subCap: Uint8Array): Uint8Array =>
  cmd(TPM_ORD.GetCapability, cat(u32(area), u32(subCap.length), subCap));
export const getRandom = (n: number): Uint8Array => cmd(TPM_ORD.GetRandom, u32(n));
export const getTestResult = (): Uint8Array => cmd(TPM_ORD.GetTestResult);
