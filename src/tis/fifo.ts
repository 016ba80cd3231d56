/**
 * The command state machine (Idle/Ready/Reception/Execution/Completion), TPM_STS_x and the
 * DATA_FIFO / XDATA_FIFO (QEMU `hw/tpm/tpm_tis_common.c`: `tpm_tis_mmio_write` STS/FIFO cases,
 * `tpm_tis_data_read`, `tpm_tis_request_completed`).
 *
 * Differences from QEMU, each deliberate:
 * - The engine runs synchronously inside tpmGo; the response is held back and published after
 *   `executionReads` further MMIO reads, so a polling driver sees Execution (0x80) and then
 *   Completion (0x90) as on real hardware.
 * - commandCancel (PTP) during Execution arrives after the synchronous engine already finished,
 *   so — like swtpm when a cancel races a finished command — the real response is delivered.
 * - Expect is re-evaluated after every byte, so bytes of a multi-byte FIFO write past paramSize
 *   are dropped (QEMU stores the whole access and re-evaluates afterwards).
 */
import { u32be } from '../bytes/index.js';
import type { Locality } from '../tpm/engine.js';
import { TPM_ORD } from '../tpm12/constants.js';
import { TPM_CC } from '../tpm2/constants.js';
import { abortAll, raiseIrq, stsSet } from './arbitration.js';
import {
  TIS_ALL_ONES,
  TIS_BURST_COUNT_BYTE_CLAMP,
  TIS_INT,
  TIS_NO_DATA_BYTE,
  TIS_STS,
  TIS_STS_STICKY,
  TIS_STS_WRITE_COMMAND_MASK,
} from './registers.js';
import { TIS_FSM, type LocalityRegs, type TisContext } from './state.js';

/** Bytes of a TPM command/response header needed to know its size (tag u16, size u32). */
const HEADER_SIZE_END = 6;

/** Self-test commands whose success sets selfTestDone (QEMU `tpm_util_is_selftest`, plus TPM_SelfTestFull). */
const SELFTEST_ORDINALS_12: ReadonlySet<number> = new Set([TPM_ORD.SelfTestFull, TPM_ORD.ContinueSelfTest]);
const SELFTEST_CC_2 = TPM_CC.SelfTest;

function activeRegs(ctx: TisContext, l: Locality): LocalityRegs | null {
  if (ctx.core.active !== l) return null;
  return ctx.core.loc[l] ?? null;
}

/** burstCount as the STS register shows it (QEMU `tpm_tis_mmio_read` STS case). */
export function burstCount(ctx: TisContext, r: LocalityRegs, accessSize: number): number {
  const core = ctx.core;
  let burst: number;
  if ((r.sts & TIS_STS.DATA_AVAIL) !== 0) {
    burst = core.respLen - core.rwOffset;
  } else {
    burst = ctx.bufferSize - core.rwOffset;
    if (accessSize === 1 && burst > TIS_BURST_COUNT_BYTE_CLAMP) burst = TIS_BURST_COUNT_BYTE_CLAMP;
  }
  return Math.max(0, Math.min(burst, ctx.burstMax));
}

/** TPM_STS_x dword; all-ones unless `l` is the active locality (docs/tpm-quirks.md#inactive-locality-reads). */
export function readSts(ctx: TisContext, l: Locality, accessSize: number): number {
  const r = activeRegs(ctx, l);
  if (!r) return TIS_ALL_ONES;
  return ((burstCount(ctx, r, accessSize) << TIS_STS.BURST_COUNT_SHIFT) | r.sts) >>> 0;
}

/** Publish the held-back response: Execution → Completion. */
export function completeExecution(ctx: TisContext): void {
  const core = ctx.core;
  const rsp = core.pending;
  const l = core.cmdLocality;
  if (rsp === null || l === null) return;
  const r = core.loc[l];
  if (!r) return;
  const size = rsp.length >= HEADER_SIZE_END ? u32be(rsp, 2) : rsp.length;
  core.buffer.set(rsp.subarray(0, Math.min(rsp.length, ctx.bufferSize)));
  core.respLen = Math.min(size, rsp.length, ctx.bufferSize);
  core.rwOffset = 0;
  core.pending = null;
  core.cmdLocality = null;
  core.execReadsLeft = 0;
  stsSet(r, TIS_STS.VALID | TIS_STS.DATA_AVAIL);
  r.state = TIS_FSM.COMPLETION;
  raiseIrq(ctx, l, TIS_INT.DATA_AVAIL | TIS_INT.STS_VALID);
}

/** Called after every MMIO read: time passes for a command in Execution. */
export function tick(ctx: TisContext): void {
  const core = ctx.core;
  if (core.pending === null) return;
  core.execReadsLeft -= 1;
  if (core.execReadsLeft <= 0) completeExecution(ctx);
}

function isSelfTestSuccess(ctx: TisContext, cmd: Uint8Array, rsp: Uint8Array): boolean {
  if (cmd.length < 10 || rsp.length < 10 || u32be(rsp, 6) !== 0) return false;
  const code = u32be(cmd, 6);
  return ctx.engine.family === '1.2' ? SELFTEST_ORDINALS_12.has(code) : code === SELFTEST_CC_2;
}

/** tpmGo in Reception with Expect = 0: run the command (synchronously) and enter Execution. */
function execute(ctx: TisContext, l: Locality, r: LocalityRegs): void {
  const core = ctx.core;
  const cmd = core.buffer.slice(0, core.rwOffset);
  const rsp = ctx.engine.execute(cmd, l);
  if (isSelfTestSuccess(ctx, cmd, rsp)) for (const x of core.loc) x.sts |= TIS_STS.SELFTEST_DONE;
  r.state = TIS_FSM.EXECUTION;
  core.pending = rsp;
  core.cmdLocality = l;
  core.execReadsLeft = ctx.executionReads;
  if (ctx.executionReads <= 0) completeExecution(ctx);
}

/** commandReady written in Reception or Execution: abort to Ready (QEMU `tpm_tis_abort`, same locality). */
function abortToReady(ctx: TisContext, l: Locality, r: LocalityRegs): void {
  abortAll(ctx.core);
  r.state = TIS_FSM.READY;
  stsSet(r, TIS_STS.COMMAND_READY);
  raiseIrq(ctx, l, TIS_INT.COMMAND_READY);
}

/** TPM_STS_x write (dword-positioned value), decoded by exact value (docs/tpm-quirks.md#sts-writes-decoded-by-exact-value). */
export function writeSts(ctx: TisContext, l: Locality, val: number): void {
  const r = activeRegs(ctx, l);
  if (!r) return;
  if (ctx.traits.hasStsEx) {
    // commandCancel: only meaningful in Execution, where the synchronous engine has already answered.
    if ((val & TIS_STS.RESET_ESTABLISHMENT) !== 0 && (l === 3 || l === 4)) ctx.engine.resetEstablishment(l);
  }
  const cmd = val & TIS_STS_WRITE_COMMAND_MASK;
  const core = ctx.core;
  if (cmd === TIS_STS.COMMAND_READY) {
    switch (r.state) {
      case TIS_FSM.READY:
        core.rwOffset = 0;
        break;
      case TIS_FSM.IDLE:
        stsSet(r, TIS_STS.COMMAND_READY);
        r.state = TIS_FSM.READY;
        raiseIrq(ctx, l, TIS_INT.COMMAND_READY);
        break;
      case TIS_FSM.RECEPTION:
      case TIS_FSM.EXECUTION:
        abortToReady(ctx, l, r);
        break;
      case TIS_FSM.COMPLETION:
        core.rwOffset = 0;
        r.state = TIS_FSM.READY;
        if ((r.sts & TIS_STS.COMMAND_READY) === 0) {
          stsSet(r, TIS_STS.COMMAND_READY);
          raiseIrq(ctx, l, TIS_INT.COMMAND_READY);
        }
        r.sts &= ~TIS_STS.DATA_AVAIL;
        break;
    }
  } else if (cmd === TIS_STS.TPM_GO) {
    if (r.state === TIS_FSM.RECEPTION && (r.sts & TIS_STS.EXPECT) === 0) execute(ctx, l, r);
  } else if (cmd === TIS_STS.RESPONSE_RETRY) {
    if (r.state === TIS_FSM.COMPLETION) {
      core.rwOffset = 0;
      stsSet(r, TIS_STS.VALID | TIS_STS.DATA_AVAIL);
    }
  }
}

/** One response byte (QEMU `tpm_tis_data_read`); 0xFF once the response is exhausted. */
function dataRead(ctx: TisContext, l: Locality, r: LocalityRegs): number {
  const core = ctx.core;
  if ((r.sts & TIS_STS.DATA_AVAIL) === 0) return TIS_NO_DATA_BYTE;
  const b = core.buffer[core.rwOffset] ?? TIS_NO_DATA_BYTE;
  core.rwOffset += 1;
  if (core.rwOffset >= core.respLen) {
    stsSet(r, TIS_STS.VALID);
    raiseIrq(ctx, l, TIS_INT.STS_VALID);
  }
  return b;
}

/** DATA_FIFO / XDATA_FIFO read of `size` bytes (already clamped to the dword). */
export function readFifo(ctx: TisContext, l: Locality, size: number): number {
  const r = activeRegs(ctx, l);
  if (!r) return TIS_ALL_ONES;
  let val = 0;
  for (let i = 0; i < size; i++) {
    const v = r.state === TIS_FSM.COMPLETION ? dataRead(ctx, l, r) : TIS_NO_DATA_BYTE;
    val |= v << (8 * i);
  }
  return val >>> 0;
}

/** paramSize of the command being received: big-endian u32 at bytes 2..5 of the buffer (as `u32be`). */
function paramSize(buf: Uint8Array): number {
  return (((buf[2] ?? 0) << 24) | ((buf[3] ?? 0) << 16) | ((buf[4] ?? 0) << 8) | (buf[5] ?? 0)) >>> 0;
}

/**
 * Expect after a byte was stored and `rwOffset` advanced (QEMU re-evaluates it after the access):
 * once the header is in, Expect stays set until `rwOffset` reaches paramSize. STS is rewritten
 * through `stsSet` every time, so a restored STS is normalised on the first byte as before.
 * `len` is paramSize, or -1 if not decoded yet; returns it (decoded once the header is in).
 */
function updateExpect(ctx: TisContext, l: Locality, r: LocalityRegs, rwOffset: number, len: number): number {
  if (rwOffset < HEADER_SIZE_END || (r.sts & TIS_STS.EXPECT) === 0) return len;
  // Bytes 2..5 lie below rwOffset and are not written again until the next command starts.
  const size = len < 0 ? paramSize(ctx.core.buffer) : len;
  const needIrq = (r.sts & TIS_STS.VALID) === 0;
  stsSet(r, size > rwOffset ? TIS_STS.EXPECT | TIS_STS.VALID : TIS_STS.VALID);
  if (needIrq) raiseIrq(ctx, l, TIS_INT.STS_VALID);
  return size;
}

/** Registers of `l` if a FIFO write is accepted there now (Ready or Reception), entering Reception from Ready. */
function receivingRegs(ctx: TisContext, l: Locality): LocalityRegs | null {
  const r = activeRegs(ctx, l);
  if (!r || (r.state !== TIS_FSM.READY && r.state !== TIS_FSM.RECEPTION)) return null; // Idle/Execution/Completion: dropped
  if (r.state === TIS_FSM.READY) {
    r.state = TIS_FSM.RECEPTION;
    stsSet(r, TIS_STS.EXPECT | TIS_STS.VALID);
  }
  return r;
}

/** DATA_FIFO / XDATA_FIFO write of the low `size` bytes of `val` (QEMU `tpm_tis_mmio_write` DATA_FIFO case). */
export function writeFifo(ctx: TisContext, l: Locality, size: number, val: number): void {
  const r = receivingRegs(ctx, l);
  if (!r) return;
  const core = ctx.core;
  let len = -1;
  for (let i = 0; i < size && (r.sts & TIS_STS.EXPECT) !== 0; i++) {
    if (core.rwOffset < ctx.bufferSize) {
      core.buffer[core.rwOffset++] = (val >>> (8 * i)) & 0xff;
      len = updateExpect(ctx, l, r, core.rwOffset, len);
    } else {
      stsSet(r, TIS_STS.VALID); // buffer full: stop expecting
    }
  }
}

/**
 * A run of DATA_FIFO / XDATA_FIFO writes carrying `data` in order, e.g. `data.length` 1-byte
 * accesses (a TIS 1.2 part with legacy transfer size has no wider one: INTF_CAPABILITY dataTransferSizeSupport 00) or 4-byte ones:
 * `writeFifo` stores an access's bytes one by one, so the effect is that of `writeFifo(ctx, l, 1, b)`
 * per byte. Nothing can happen between them, so locality and state are checked once and paramSize
 * is decoded once.
 */
export function writeFifoBytes(ctx: TisContext, l: Locality, data: Uint8Array): void {
  if (data.length === 0) return;
  const r = receivingRegs(ctx, l);
  if (!r) return;
  const core = ctx.core;
  const cap = ctx.bufferSize;
  const steady = (TIS_STS.EXPECT | TIS_STS.VALID) >>> 0;
  let len = -1;
  // Once Expect is clear it stays clear (only a stored byte can set it), so the rest is dropped.
  for (let i = 0; i < data.length && (r.sts & TIS_STS.EXPECT) !== 0; ) {
    const off = core.rwOffset;
    if (off >= cap) {
      stsSet(r, TIS_STS.VALID); // buffer full: stop expecting
      continue;
    }
    // With paramSize known and STS already showing just Expect|stsValid (plus sticky bits), bytes
    // that keep rwOffset below paramSize leave STS and INT_STATUS as they are: store them as a block.
    const settled = len >= 0 && r.sts === ((r.sts & TIS_STS_STICKY) | steady) >>> 0;
    const run = settled ? Math.min(data.length - i, cap - off, len - 1 - off) : 0;
    if (run > 0) {
      core.buffer.set(data.subarray(i, i + run), off);
      core.rwOffset = off + run;
      i += run;
      continue;
    }
    core.buffer[off] = data[i++] ?? 0;
    core.rwOffset = off + 1;
    len = updateExpect(ctx, l, r, off + 1, len);
  }
}
