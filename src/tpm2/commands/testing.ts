/**
 * Testing commands (TPM 2.0 Library Part 3 §10): TPM2_SelfTest and TPM2_GetTestResult, as
 * libtpms 0.9.2 `TestingCommands.c` answers them once its self tests have passed
 * (probed on swtpm: SelfTest(YES) → TPM_RC_SUCCESS; GetTestResult → empty outData, TPM_RC_SUCCESS).
 */
import type { CommandDef } from '../command.js';
import { TPM_CC } from '../constants.js';
import { TPM_RC } from '../rc.js';
import { decodeYesNo } from '../structures.js';

export const SelfTest: CommandDef = {
  cc: TPM_CC.SelfTest,
  name: 'TPM2_SelfTest',
  handles: [],
  authHandles: 0,
  tpmaCc: 0x00400143,
  prepare(p) {
    p.next(decodeYesNo); // fullTest
    return () => ({});
  },
};

export const GetTestResult: CommandDef = {
  cc: TPM_CC.GetTestResult,
  name: 'TPM2_GetTestResult',
  handles: [],
  authHandles: 0,
  tpmaCc: 0x0000017c,
  encryptSize: 2,
  prepare() {
    return () => ({ write: (w) => w.sized16(new Uint8Array(0)).u32(TPM_RC.SUCCESS) });
  },
};
