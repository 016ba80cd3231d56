/**
 * PC Client PCR attributes for TPM 1.2 (TCG PC Client TIS 1.21 §7.2; libtpms
 * `TPM_PCRAttributes_Init` with TPM_PCCLIENT), plus the PC Client init/reset values.
 */
import { TPM_LOC, TPM_NUM_PCR } from './constants.js';

export interface PcrAttributes {
  /** TPM_PCR_ATTRIBUTES.pcrReset: TPM_PCR_Reset allowed at all. */
  readonly pcrReset: boolean;
  /** Localities (TPM_LOCALITY_SELECTION bits) allowed to reset. */
  readonly pcrResetLocal: number;
  /** Localities allowed to extend. */
  readonly pcrExtendLocal: number;
}

const ALL = TPM_LOC.ZERO | TPM_LOC.ONE | TPM_LOC.TWO | TPM_LOC.THREE | TPM_LOC.FOUR;

function attributesOf(pcr: number): PcrAttributes {
  if (pcr < 16) return { pcrReset: false, pcrResetLocal: 0, pcrExtendLocal: ALL };
  switch (pcr) {
    case 16: // debug PCR
    case 23: // application-specific
      return { pcrReset: true, pcrResetLocal: ALL, pcrExtendLocal: ALL };
    case 17:
    case 18:
      return { pcrReset: true, pcrResetLocal: TPM_LOC.FOUR, pcrExtendLocal: TPM_LOC.TWO | TPM_LOC.THREE | TPM_LOC.FOUR };
    case 19:
      return { pcrReset: true, pcrResetLocal: TPM_LOC.FOUR, pcrExtendLocal: TPM_LOC.TWO | TPM_LOC.THREE };
    case 20:
      return {
        pcrReset: true,
        pcrResetLocal: TPM_LOC.TWO | TPM_LOC.FOUR,
        pcrExtendLocal: TPM_LOC.ONE | TPM_LOC.TWO | TPM_LOC.THREE,
      };
    default: // 21, 22
      return { pcrReset: true, pcrResetLocal: TPM_LOC.TWO, pcrExtendLocal: TPM_LOC.TWO };
  }
}

/** The table, indexed by PCR number 0..23. */
export const PCR_ATTRIBUTES: readonly PcrAttributes[] = Array.from({ length: TPM_NUM_PCR }, (_, i) => attributesOf(i));

export function pcrAttributes(pcr: number): PcrAttributes {
  const a = PCR_ATTRIBUTES[pcr];
  if (!a) throw new RangeError(`PCR ${pcr} out of range`);
  return a;
}

/** Whether `locality` is in a TPM_LOCALITY_SELECTION bitmap (libtpms `TPM_Locality_Check`). */
export function localityAllowed(selection: number, locality: number): boolean {
  return locality >= 0 && locality <= 4 && (selection & (1 << locality)) !== 0;
}

/** PC Client value at TPM_Init: PCR 17–22 all ones, the rest zero (libtpms `TPM_PCR_Init`). */
export function pcrInitFill(pcr: number): number {
  return pcr >= 17 && pcr <= 22 ? 0xff : 0x00;
}

/**
 * PC Client value after TPM_PCR_Reset (libtpms `TPM_PCR_Reset`): 16 and 23 zero;
 * 17–22 zero once a HASH_START has happened since TPM_Init (TOSPresent), else all ones.
 */
export function pcrResetFill(pcr: number, tosPresent: boolean): number {
  if (tosPresent || pcr === 16 || pcr === 23) return 0x00;
  return 0xff;
}
