/**
 * TPM_PcrRead (Part 3 §16.2), TPM_Extend (§16.1), TPM_PCR_Reset (§16.4) with the PC Client rules
 * (../pcr-attributes.ts; docs/tpm-quirks.md#pcr-17-zero-rule, #pcr-reset-rules). Behaviour as libtpms `TPM_Process_PcrRead`, `TPM_ExtendCommon`,
 * `TPM_Process_PcrReset`.
 */
import { sha1 } from '../../hash/index.js';
import type { Locality } from '../../tpm/engine.js';
import { TPM_DIGEST_SIZE, TPM_LOCALITY_4_PCR, TPM_NUM_PCR } from '../constants.js';
import { TPM_CHECK, checkState, requireTagRquCommand } from '../check-state.js';
import type { CommandContext } from '../command.js';
import { successResponse } from '../header.js';
import { localityAllowed, pcrAttributes, pcrResetFill } from '../pcr-attributes.js';
import { TPM_RC12, Tpm12Error } from '../return-codes.js';
import type { Tpm12State } from '../state.js';

/** Bytes of a PC Client TPM_PCR_SELECTION bitmap: 24 PCRs / 8. */
const PCR_SELECT_MAX = TPM_NUM_PCR / 8;

function pcrValue(s: Tpm12State, pcr: number): Uint8Array {
  const v = s.pcrs.get(pcr);
  if (!v) throw new Tpm12Error(TPM_RC12.BADINDEX);
  return v;
}

/**
 * libtpms `TPM_ExtendCommon`:
 * 1. pcrNum ≥ 24 → TPM_BADINDEX;
 * 2. locality not in pcrExtendLocal → TPM_BAD_LOCALITY;
 * 3. PC Client: PCR 17 at its reset value 0 may be extended from locality 4 only;
 * 4. PCR = SHA1(PCR ‖ digest); outDigest = new value, or zeros when deactivated.
 */
export function extendCommon(s: Tpm12State, locality: Locality, pcr: number, digest: Uint8Array): Uint8Array {
  if (pcr >= TPM_NUM_PCR) throw new Tpm12Error(TPM_RC12.BADINDEX);
  if (!localityAllowed(pcrAttributes(pcr).pcrExtendLocal, locality)) throw new Tpm12Error(TPM_RC12.BAD_LOCALITY);
  const current = pcrValue(s, pcr);
  if (pcr === TPM_LOCALITY_4_PCR && locality !== 4 && current.every((b) => b === 0)) {
    throw new Tpm12Error(TPM_RC12.BAD_LOCALITY);
  }
  const next = sha1(current, digest);
  s.pcrs.set(pcr, next);
  return s.stclear.deactivated ? new Uint8Array(TPM_DIGEST_SIZE) : next.slice();
}

/** TPM_PcrRead: `pcrIndex u32` → `outDigest[20]`. */
export function pcrRead(ctx: CommandContext): Uint8Array {
  const pcr = ctx.params.u32();
  checkState(ctx.state, TPM_CHECK.ALLOW_NO_OWNER);
  requireTagRquCommand(ctx.tag);
  ctx.params.expectEnd();
  if (pcr >= TPM_NUM_PCR) throw new Tpm12Error(TPM_RC12.BADINDEX);
  return successResponse(pcrValue(ctx.state, pcr).slice());
}

/** TPM_Extend: `pcrNum u32, inDigest[20]` → `outDigest[20]`. */
export function extend(ctx: CommandContext): Uint8Array {
  const pcr = ctx.params.u32();
  const digest = ctx.params.bytes(TPM_DIGEST_SIZE);
  checkState(ctx.state, TPM_CHECK.NOT_SHUTDOWN | TPM_CHECK.NO_LOCKOUT);
  requireTagRquCommand(ctx.tag);
  ctx.params.expectEnd();
  return successResponse(extendCommon(ctx.state, ctx.locality, pcr, digest));
}

/** Selected PCR numbers of a TPM_PCR_SELECTION bitmap, lowest first (bit i%8 of byte i/8). */
function selectedPcrs(select: Uint8Array): number[] {
  const out: number[] = [];
  select.forEach((byte, i) => {
    for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit)) out.push(i * 8 + bit);
  });
  return out;
}

/**
 * TPM_PCR_Reset: `TPM_PCR_SELECTION` → nothing.
 * sizeOfSelect > 3 or an empty selection → TPM_INVALID_PCR_INFO; every selected PCR is checked,
 * lowest first, before any is reset: pcrReset FALSE → TPM_NOTRESETABLE, locality not in
 * pcrResetLocal → TPM_NOTLOCAL (libtpms `TPM_Process_PcrReset`). Reset value depends on TOSPresent.
 */
export function pcrReset(ctx: CommandContext): Uint8Array {
  const sizeOfSelect = ctx.params.u16();
  if (sizeOfSelect > PCR_SELECT_MAX) throw new Tpm12Error(TPM_RC12.INVALID_PCR_INFO);
  const select = new Uint8Array(sizeOfSelect);
  for (let i = 0; i < sizeOfSelect; i++) select[i] = ctx.params.u8();
  checkState(ctx.state, TPM_CHECK.NOT_SHUTDOWN | TPM_CHECK.NO_LOCKOUT);
  requireTagRquCommand(ctx.tag);
  ctx.params.expectEnd();
  const pcrs = selectedPcrs(select);
  if (pcrs.length === 0) throw new Tpm12Error(TPM_RC12.INVALID_PCR_INFO);
  for (const pcr of pcrs) {
    const a = pcrAttributes(pcr);
    if (!a.pcrReset) throw new Tpm12Error(TPM_RC12.NOTRESETABLE);
    if (!localityAllowed(a.pcrResetLocal, ctx.locality)) throw new Tpm12Error(TPM_RC12.NOTLOCAL);
  }
  for (const pcr of pcrs) ctx.state.pcrs.get(pcr)?.fill(pcrResetFill(pcr, ctx.state.tosPresent));
  return successResponse();
}
