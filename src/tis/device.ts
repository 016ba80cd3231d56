/**
 * TisDevice: a TIS 1.2 / TIS 1.3 / PTP FIFO interface in front of a `TpmEngine`, reached through
 * byte offsets relative to 0xFED40000 (TCG PC Client TIS / PTP FIFO interface). Modelled on QEMU `hw/tpm/tpm_tis_common.c`;
 * differences are listed in arbitration.ts and fifo.ts. Invalid accesses are hardware semantics:
 * reads return all-ones, writes are dropped. Only a broken engine throws.
 */
import type { Locality, TpmEngine, TpmFamily } from '../tpm/engine.js';
import type { BankName } from '../hash/index.js';
import { readAccess, relinquish, setActiveLocality, writeAccess } from './arbitration.js';
import { isDecodedAccess, sizeMask, type AccessSize } from './decode.js';
import { readFifo, readSts, tick, writeFifo, writeFifoBytes, writeSts } from './fifo.js';
import {
  DEFAULT_PROFILE,
  PROFILES_FOR_FAMILY,
  PROFILE_TRAITS,
  TIS_ALL_ONES,
  TIS_BUFFER_MAX,
  TIS_BURST_COUNT_MAX,
  TIS_DEFAULT_DID_VID,
  TIS_DEFAULT_IRQ,
  TIS_DEFAULT_RID,
  TIS_DWORD_MASK,
  TIS_IFACE_ID,
  TIS_INT,
  TIS_INTERRUPTS_SUPPORTED,
  TIS_LOCALITY_SHIFT,
  TIS_NUM_LOCALITIES,
  TIS_REG,
  type TisProfile,
} from './registers.js';
import { restoreSnapshot, takeSnapshot } from './snapshot.js';
import { newLocalityRegs, type TisContext, type TisCore, type TisSnapshot } from './state.js';
import { buildStateView, type TisStateView } from './view.js';

/** The data buffer of a device whose FIFO was never used (see TisDevice.used). */
const NO_BUFFER = new Uint8Array(0);

export interface TisDeviceOptions {
  /** Default by family: TPM 1.2 → 'tis-1.2', TPM 2.0 → 'ptp-fifo'. */
  profile?: TisProfile;
  /** DID_VID (0xF00); default 0x00011014 as QEMU. */
  didVid?: number;
  /** RID (0xF04); default 0x01 as QEMU. */
  rid?: number;
  /** Largest burstCount shown (1..0xFFFF): 0xFF models an 8-bit burst counter. Default 0xFFFF. */
  burstMax?: number;
  /** MMIO reads that still show Execution after tpmGo (0..1000). Default 1. */
  executionReads?: number;
  /** INT_VECTOR value (hard wired). Default 5. */
  irqVector?: number;
}

/** Returned by `dynamicLaunch` when a locality other than 4 holds the TPM (libtpms `tpm_tpm12_tis.c`
 * TPM12_IO_Hash_Start: the interface ignores the cycle; docs/tpm-quirks.md#locality-4): nothing was done. */
export const DYNAMIC_LAUNCH_IGNORED = 0xffffffff;
/** Largest `executionReads` accepted. */
export const TIS_EXECUTION_READS_MAX = 1000;

function checkInt(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in ${min}..${max}`);
  return v;
}

export class TisDevice {
  readonly profile: TisProfile;
  readonly family: TpmFamily;
  readonly didVid: number;
  readonly rid: number;
  readonly irqVector: number;
  private readonly ctx: TisContext;

  constructor(engine: TpmEngine, opts: TisDeviceOptions = {}) {
    this.family = engine.family;
    this.profile = opts.profile ?? DEFAULT_PROFILE[engine.family];
    if (!PROFILES_FOR_FAMILY[engine.family].includes(this.profile)) {
      throw new RangeError(`profile ${this.profile} cannot front a TPM ${engine.family} (see docs/tpm-quirks.md#family-detection)`);
    }
    this.didVid = checkInt('didVid', opts.didVid ?? TIS_DEFAULT_DID_VID, 0, 0xffffffff);
    this.rid = checkInt('rid', opts.rid ?? TIS_DEFAULT_RID, 0, 0xff);
    this.irqVector = checkInt('irqVector', opts.irqVector ?? TIS_DEFAULT_IRQ, 0, 0xff);
    const traits = PROFILE_TRAITS[this.profile];
    const bufferSize = Math.min(checkInt('engine.bufferSize', engine.bufferSize, 16, 0x100000), TIS_BUFFER_MAX);
    const core: TisCore = {
      active: null,
      loc: Array.from({ length: TIS_NUM_LOCALITIES }, () => newLocalityRegs(traits.familyBits)),
      // Allocated on the first access (used()): most sessions never touch the FIFO.
      buffer: NO_BUFFER,
      rwOffset: 0,
      respLen: 0,
      pending: null,
      cmdLocality: null,
      execReadsLeft: 0,
      intfSelLock: false,
    };
    this.ctx = {
      core,
      engine,
      traits,
      bufferSize,
      burstMax: checkInt('burstMax', opts.burstMax ?? TIS_BURST_COUNT_MAX, 1, TIS_BURST_COUNT_MAX),
      executionReads: checkInt('executionReads', opts.executionReads ?? 1, 0, TIS_EXECUTION_READS_MAX),
    };
  }

  /** The context, with its data buffer allocated (every entry point that may reach the FIFO calls this first). */
  private used(): TisContext {
    const ctx = this.ctx;
    if (ctx.core.buffer === NO_BUFFER) ctx.core.buffer = new Uint8Array(ctx.bufferSize);
    return ctx;
  }

  /** Largest burstCount the device shows. */
  get burstMax(): number {
    return this.ctx.burstMax;
  }

  get engine(): TpmEngine {
    return this.ctx.engine;
  }

  /** MMIO read of `size` bytes at `offset` (relative to 0xFED40000). */
  read(offset: number, size: AccessSize): number {
    const ctx = this.used();
    if (!isDecodedAccess(offset, size)) {
      tick(ctx); // an undecoded cycle still takes time
      return isSizeLike(size) ? (TIS_ALL_ONES & sizeMask(size)) >>> 0 : TIS_ALL_ONES;
    }
    // Locality and dword register decoded inline (see isDecodedAccess), without an object per access.
    const l = (offset >>> TIS_LOCALITY_SHIFT) as Locality;
    const register = offset & TIS_DWORD_MASK;
    const r = ctx.core.loc[l];
    const traits = ctx.traits;
    let val: number = TIS_ALL_ONES;
    let positioned = false; // FIFO reads already return the accessed bytes at bit 0
    switch (register) {
      case TIS_REG.ACCESS:
        val = readAccess(ctx, l);
        break;
      case TIS_REG.INT_ENABLE:
        val = r?.inte ?? 0;
        break;
      case TIS_REG.INT_VECTOR:
        val = this.irqVector;
        break;
      case TIS_REG.INT_STATUS:
        val = r?.ints ?? 0;
        break;
      case TIS_REG.INTF_CAPABILITY:
        val = traits.intfCapability;
        break;
      case TIS_REG.STS:
        val = readSts(ctx, l, size);
        break;
      case TIS_REG.INTERFACE_ID:
        if (traits.hasInterfaceIdRegister) val = traits.interfaceId | (ctx.core.intfSelLock ? TIS_IFACE_ID.INT_SEL_LOCK : 0);
        break;
      case TIS_REG.DID_VID:
        val = this.didVid;
        break;
      case TIS_REG.RID:
        val = this.rid;
        break;
      default:
        if (isFifoRegister(register, traits.hasXDataFifo)) {
          val = readFifo(ctx, l, size);
          positioned = ctx.core.active === l;
        }
    }
    const out = ((positioned ? val : val >>> ((offset & 3) * 8)) & sizeMask(size)) >>> 0;
    tick(ctx);
    return out;
  }

  /** MMIO write of the low `size` bytes of `value` at `offset`. Locality 4 writes are dropped (QEMU; docs/tpm-quirks.md#locality-4). */
  write(offset: number, size: AccessSize, value: number): void {
    if (!isDecodedAccess(offset, size)) return;
    // Locality and dword register decoded inline (see isDecodedAccess), without an object per access.
    const l = (offset >>> TIS_LOCALITY_SHIFT) as Locality;
    if (l === 4) return;
    const register = offset & TIS_DWORD_MASK;
    // ToInt32 truncates and gives 0 for NaN/±Infinity: `Math.trunc(value) & mask` for a finite number, else 0.
    const raw = typeof value === 'number' ? value & sizeMask(size) : 0;
    // DATA_FIFO first and kept small: it is one call per command byte with 1-byte accesses.
    if (register === TIS_REG.DATA_FIFO) writeFifo(this.used(), l, size, raw);
    else this.writeRegister(l, register, offset, size, raw);
  }

  /** Every decoded write but DATA_FIFO, at locality 0..3; `raw` is already masked to `size`. */
  private writeRegister(l: Locality, register: number, offset: number, size: AccessSize, raw: number): void {
    const ctx = this.used();
    const shift = (offset & 3) * 8;
    const val = (raw << shift) >>> 0;
    const r = ctx.core.loc[l];
    if (!r) return;
    switch (register) {
      case TIS_REG.ACCESS:
        writeAccess(ctx, l, val & 0xff);
        break;
      case TIS_REG.INT_ENABLE:
        if (ctx.core.active === l) {
          const allowed = TIS_INT.GLOBAL_ENABLE | TIS_INT.POLARITY_MASK | TIS_INTERRUPTS_SUPPORTED;
          const mask = (sizeMask(size) << shift) >>> 0;
          r.inte = ((r.inte & ~mask) | (val & allowed)) >>> 0;
        }
        break;
      case TIS_REG.INT_STATUS:
        if (ctx.core.active === l) r.ints = (r.ints & ~(val & TIS_INTERRUPTS_SUPPORTED)) >>> 0;
        break;
      case TIS_REG.STS:
        writeSts(ctx, l, val);
        break;
      case TIS_REG.INTERFACE_ID:
        if (ctx.traits.hasInterfaceIdRegister && (val & TIS_IFACE_ID.INT_SEL_LOCK) !== 0) ctx.core.intfSelLock = true;
        break;
      default:
        if (isFifoRegister(register, ctx.traits.hasXDataFifo)) writeFifo(ctx, l, size, raw);
      // INT_VECTOR is hard wired; INTF_CAPABILITY, DID_VID, RID are read-only; others undecoded.
    }
  }

  /** `count` 1-byte reads at `offset` (e.g. draining DATA_FIFO). */
  readBytes(offset: number, count: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, Math.trunc(count)));
    for (let i = 0; i < out.length; i++) out[i] = this.read(offset, 1);
    return out;
  }

  /**
   * One `size`-byte write per `size` bytes of `data` at `offset`, each taking its bytes in order
   * (little-endian, as DATA_FIFO stores them); default 1-byte writes (e.g. filling DATA_FIFO).
   * At DATA_FIFO / XDATA_FIFO of locality 0..3 the run goes to `writeFifoBytes`: a FIFO access
   * stores its bytes one by one exactly as that many 1-byte accesses would (fifo.ts), so the effect
   * is that of the writes, decoded once. Anything else, or a subclass overriding `write`, goes
   * access by access. Throws RangeError (a caller bug, not an access) unless `size` divides `data.length`.
   */
  writeBytes(offset: number, data: Uint8Array, size: AccessSize = 1): void {
    if (!isSizeLike(size) || data.length % size !== 0) {
      throw new RangeError('data.length must be a multiple of size (1, 2 or 4)');
    }
    const l = offset >>> TIS_LOCALITY_SHIFT;
    if (
      this.write === TisDevice.prototype.write &&
      isDecodedAccess(offset, size) &&
      l !== 4 &&
      isFifoRegister(offset & TIS_DWORD_MASK, this.ctx.traits.hasXDataFifo)
    ) {
      writeFifoBytes(this.used(), l as Locality, data);
      return;
    }
    for (let i = 0; i < data.length; i += size) {
      let v = 0;
      for (let k = size - 1; k >= 0; k--) v = (v << 8) | (data[i + k] ?? 0);
      this.write(offset, size, v >>> 0);
    }
  }

  /**
   * The CPU's dynamic launch as LPC special cycles at locality 4 (docs/tpm-quirks.md#locality-4;
   * libtpms `tpm_tpm12_tis.c` TPM12_IO_Hash_*, ms-tpm-20-ref `events/_TPM_Hash_*.c`):
   * HASH_START, HASH_DATA (in buffer-sized pieces), HASH_END. Ignored (returns
   * DYNAMIC_LAUNCH_IGNORED) while another locality is active; otherwise locality 4 becomes active,
   * any command is aborted and the FIFO cleared, and locality 4 is released at the end or on error.
   * Returns the first non-zero TPM return code, or 0.
   */
  dynamicLaunch(data: Uint8Array): number {
    const ctx = this.used();
    const launch: Locality = 4;
    if (ctx.core.active !== null && ctx.core.active !== launch) return DYNAMIC_LAUNCH_IGNORED;
    setActiveLocality(ctx, launch);
    try {
      let rc = ctx.engine.hashStart();
      for (let off = 0; rc === 0 && off < data.length; off += ctx.bufferSize) {
        rc = ctx.engine.hashData(data.subarray(off, Math.min(data.length, off + ctx.bufferSize)));
      }
      if (rc === 0) rc = ctx.engine.hashEnd();
      return rc >>> 0;
    } finally {
      relinquish(ctx, launch);
    }
  }

  /**
   * The dynamic launch for data known only by its digests (see TpmEngine.hashStartEndDigests), with
   * the same locality rules as `dynamicLaunch`.
   */
  dynamicLaunchDigests(digests: Partial<Record<BankName, Uint8Array>>): number {
    const ctx = this.used();
    const launch: Locality = 4;
    if (ctx.core.active !== null && ctx.core.active !== launch) return DYNAMIC_LAUNCH_IGNORED;
    const engine = ctx.engine;
    if (!engine.hashStartEndDigests) throw new Error('this engine cannot launch from digests');
    setActiveLocality(ctx, launch);
    try {
      return engine.hashStartEndDigests(digests) >>> 0;
    } finally {
      relinquish(ctx, launch);
    }
  }

  /** Decoded state for display and tests (no side effects). */
  state(): TisStateView {
    return buildStateView(this.ctx, this.profile);
  }

  snapshot(): TisSnapshot {
    return takeSnapshot(this.ctx, this.profile);
  }

  /** Load a snapshot taken from a device with the same profile; throws TisSnapshotError if malformed. */
  restore(snapshot: TisSnapshot): void {
    restoreSnapshot(this.used(), this.profile, snapshot);
  }
}

function isSizeLike(n: number): n is AccessSize {
  return n === 1 || n === 2 || n === 4;
}

function isFifoRegister(register: number, hasXData: boolean): boolean {
  if (register === TIS_REG.DATA_FIFO) return true;
  return hasXData && register >= TIS_REG.XDATA_FIFO && register <= TIS_REG.XDATA_FIFO_END;
}
