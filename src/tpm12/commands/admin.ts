/**
 * Self-test and small administrative commands: TPM_SelfTestFull (Part 3 §4.1),
 * TPM_ContinueSelfTest (§4.2), TPM_GetTestResult (§4.3), TPM_GetRandom (§13.6),
 * Behaviour as libtpms `tpm_admin.c`, `tpm_cryptoh.c`.
 */
import { BeWriter } from '../../bytes/index.js';
import { TPM_RANDOM_MAX } from '../constants.js';
import { TPM_CHECK, checkState, continueSelfTest, requireTagRquCommand } from '../check-state.js';
import type { CommandContext } from '../command.js';
import { successResponse } from '../header.js';

function noParams(ctx: CommandContext, map: number): void {
  checkState(ctx.state, map);
  requireTagRquCommand(ctx.tag);
  ctx.params.expectEnd();
}

/** TPM_SelfTestFull: runs the limited and the continued self-test (→ full operation). */
export function selfTestFull(ctx: CommandContext): Uint8Array {
  noParams(ctx, TPM_CHECK.NOT_SHUTDOWN | TPM_CHECK.NO_LOCKOUT);
  continueSelfTest(ctx.state);
  return successResponse();
}

/** TPM_ContinueSelfTest: completes the self-test before answering (libtpms option 3.b). */
export function continueSelfTestCommand(ctx: CommandContext): Uint8Array {
  noParams(ctx, TPM_CHECK.NOT_SHUTDOWN | TPM_CHECK.NO_LOCKOUT);
  continueSelfTest(ctx.state);
  return successResponse();
}

/**
 * TPM_GetTestResult → `outDataSize u32, outData`: libtpms' manufacturer text
 * "Shutdown %08x\n" with its test state (1 limited, 2 full, 3 failure). Works in failure mode.
 */
export function getTestResult(ctx: CommandContext): Uint8Array {
  noParams(ctx, TPM_CHECK.NO_LOCKOUT);
  const text = `Shutdown ${ctx.state.testState.toString(16).padStart(8, '0')}\n`;
  const bytes = new TextEncoder().encode(text);
  return successResponse(new BeWriter(4 + bytes.length).u32(bytes.length).bytes(bytes).finish());
}

/** TPM_GetRandom: `bytesRequested u32` → `randomBytesSize u32, randomBytes`, clamped to 4082. */
export function getRandom(ctx: CommandContext): Uint8Array {
  const requested = ctx.params.u32();
  checkState(ctx.state, TPM_CHECK.ALLOW_NO_OWNER);
  requireTagRquCommand(ctx.tag);
  ctx.params.expectEnd();
  const n = Math.min(requested, TPM_RANDOM_MAX);
  const bytes = n > 0 ? ctx.random(n) : new Uint8Array(0);
  return successResponse(new BeWriter(4 + n).u32(n).bytes(bytes).finish());
}
