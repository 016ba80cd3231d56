/**
 * The SHA-1 thread: TPM_SHA1Start (Part 3 §13.1), TPM_SHA1Update (§13.2), TPM_SHA1Complete (§13.3),
 * TPM_SHA1CompleteExtend (§13.4). Behaviour as libtpms `tpm_cryptoh.c`.
 * That any other ordinal kills the thread is done in preprocess (check-state.ts).
 */
import { BeWriter, concatBytes } from '../../bytes/index.js';
import { SHA1_BLOCK_SIZE, TPM_SHA1_FINAL_MAX, TPM_SHA1_MAXNUMBYTES } from '../constants.js';
import { TPM_CHECK, checkState, requireTagRquCommand } from '../check-state.js';
import type { CommandContext } from '../command.js';
import { successResponse } from '../header.js';
import { TPM_RC12, Tpm12Error } from '../return-codes.js';
import { Sha1Stream } from '../sha1-stream.js';
import type { Tpm12State } from '../state.js';
import { extendCommon } from './pcr.js';

function commonChecks(ctx: CommandContext): void {
  checkState(ctx.state, TPM_CHECK.NOT_SHUTDOWN | TPM_CHECK.NO_LOCKOUT);
  requireTagRquCommand(ctx.tag);
  ctx.params.expectEnd();
}

/** TPM_SHA1Start: opens (replaces) the thread → `maxNumBytes u32` (4032). */
export function sha1Start(ctx: CommandContext): Uint8Array {
  commonChecks(ctx);
  ctx.state.sha1Thread = new Sha1Stream();
  return successResponse(new BeWriter(4).u32(TPM_SHA1_MAXNUMBYTES).finish());
}

/**
 * TPM_SHA1Update: `numBytes u32, hashData[numBytes]`. No thread → TPM_SHA_THREAD; numBytes not a
 * multiple of 64, or above maxNumBytes → TPM_SHA_ERROR and the thread is terminated.
 */
export function sha1Update(ctx: CommandContext): Uint8Array {
  const data = ctx.params.sized();
  commonChecks(ctx);
  const s = ctx.state;
  if (!s.sha1Thread) throw new Tpm12Error(TPM_RC12.SHA_THREAD);
  if (data.length % SHA1_BLOCK_SIZE !== 0 || data.length > TPM_SHA1_MAXNUMBYTES) {
    s.sha1Thread = null;
    throw new Tpm12Error(TPM_RC12.SHA_ERROR);
  }
  s.sha1Thread.update(data);
  return successResponse();
}

/**
 * libtpms `TPM_SHA1CompleteCommon`: final block > 64 bytes → TPM_SHA_ERROR; no thread →
 * TPM_SHA_THREAD; the thread is deleted whatever the outcome.
 */
function completeThread(s: Tpm12State, last: Uint8Array): Uint8Array {
  const thread = s.sha1Thread;
  s.sha1Thread = null;
  if (last.length > TPM_SHA1_FINAL_MAX) throw new Tpm12Error(TPM_RC12.SHA_ERROR);
  if (!thread) throw new Tpm12Error(TPM_RC12.SHA_THREAD);
  return thread.update(last).digest();
}

/** TPM_SHA1Complete: `hashDataSize u32, hashData[0..64]` → `hashValue[20]`. */
export function sha1Complete(ctx: CommandContext): Uint8Array {
  const last = ctx.params.sized();
  commonChecks(ctx);
  return successResponse(completeThread(ctx.state, last));
}

/**
 * TPM_SHA1CompleteExtend: `pcrNum u32, hashDataSize u32, hashData[0..64]` →
 * `hashValue[20], outDigest[20]`; the extend checks (libtpms `TPM_ExtendCommon`) run after the thread is closed.
 */
export function sha1CompleteExtend(ctx: CommandContext): Uint8Array {
  const pcr = ctx.params.u32();
  const last = ctx.params.sized();
  commonChecks(ctx);
  const h1 = completeThread(ctx.state, last);
  const out = extendCommon(ctx.state, ctx.locality, pcr, h1);
  return successResponse(concatBytes(h1, out));
}
