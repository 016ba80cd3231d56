/**
 * Names of TPM return codes for either family. Imports only the two return-code tables, so
 * naming a code never loads an engine.
 */
import { returnCodeName } from '../tpm12/return-codes.js';
import { rcName as tpm2RcName } from '../tpm2/rc.js';
import type { TpmFamily } from './engine.js';

/** Name of a TPM return/response code for the family (e.g. 0x3D → TPM_BAD_LOCALITY). */
export function rcName(family: TpmFamily, rc: number): string {
  return family === '1.2' ? returnCodeName(rc) : tpm2RcName(rc);
}
