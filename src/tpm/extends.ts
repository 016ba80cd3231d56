/**
 * Which raw commands extend a PCR: the socket data channel and HTTP /commands count those that
 * succeeded (the session's `extendsOutsideLog`), since nothing logs them (a real TPM does not log).
 */
import { u16be, u32be } from '../bytes/index.js';
import type { TpmFamily } from './engine.js';

/** TPM 1.2: TPM_Extend (0x14), TPM_SHA1CompleteExtend (0xA3) (TPM Main Part 3 §16.1, §13.4). */
const TPM12_EXTENDS = new Set([0x14, 0xa3]);
/** TPM 2.0: PCR_Extend (0x182), PCR_Event (0x13C), EventSequenceComplete (0x185) (Part 3 §22.2, §22.3, §17.5). */
const TPM2_EXTENDS = new Set([0x182, 0x13c, 0x185]);

const TPM_RH_NULL = 0x40000007;

/** True when `command` is a PCR-extending command and `response` says it succeeded. */
export function isSuccessfulExtend(family: TpmFamily, command: Uint8Array, response: Uint8Array): boolean {
  if (command.length < 10 || response.length < 10) return false;
  if (u32be(response, 6) !== 0) return false;
  const tag = u16be(command, 0);
  const code = u32be(command, 6);
  if (family === '1.2') return (tag === 0xc1 || tag === 0xc2 || tag === 0xc3) && TPM12_EXTENDS.has(code);
  // The first handle is the PCR; TPM_RH_NULL (PCR_Event / EventSequenceComplete only hash) extends nothing.
  return (tag === 0x8001 || tag === 0x8002) && TPM2_EXTENDS.has(code) && command.length >= 14 && u32be(command, 10) !== TPM_RH_NULL;
}
