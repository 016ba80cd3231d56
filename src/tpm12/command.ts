/**
 * What a TPM 1.2 command handler sees and returns. Each handler follows the libtpms order:
 * read inputs, check state, check tag, reject trailing bytes, act, build the response.
 * Errors are thrown as Tpm12Error and answered by the dispatcher (a 10-byte TPM_TAG_RSP_COMMAND reply, libtpms `tpm_process.c`).
 */
import type { Locality } from '../tpm/engine.js';
import type { ParamReader } from './header.js';
import type { Tpm12State } from './state.js';

export interface CommandContext {
  readonly state: Tpm12State;
  readonly tag: number;
  readonly ordinal: number;
  readonly params: ParamReader;
  /** Locality the command arrived at (TPM_STANY_FLAGS.localityModifier). */
  readonly locality: Locality;
  /** Source of TPM_GetRandom bytes. */
  readonly random: (n: number) => Uint8Array;
}

export type CommandHandler = (ctx: CommandContext) => Uint8Array;
