/**
 * The seed driver: register accesses exactly as the Xen Secure Launch series v1–v3 drive the FIFO
 * (Xen slaunch patch 11/21: send_cmd, request_locality), written from the description in
 * docs/tpm-quirks.md#seed-fifo-driver. It is a test client that reproduces the seed's
 * bugs on purpose — no burstCount or Expect checks, a receive loop that over-reads until its
 * buffer is full (docs/tpm-quirks.md#fifo-over-read) — except that every spin is bounded by a large cap and
 * throws TisTimeoutError where Xen would hang.
 */
import { u32be } from '../bytes/index.js';
import type { Locality } from '../tpm/engine.js';
import { TIS_ACCESS, TIS_REG, TIS_STS } from '../tis/registers.js';
import { locReg, TisTimeoutError, type TisBus } from './bus.js';
import { sha1CompleteExtend12, sha1Start12, sha1Update12, SHA1_BLOCK, TPM12_HEADER_SIZE, TPM12_SHA1_COMPLETE_MAX } from './tpm12-commands.js';

/** Default cap on each spin (Xen v1–v3 has none, docs/tpm-quirks.md#seed-fifo-driver). */
export const SEED_SPIN_LIMIT = 1_000_000;
/** Size of the early TPM 1.2 command/response union: SHA1Update with 1024 data bytes (Xen slaunch patch `CMD_RSP_BUF_SIZE`). */
export const SEED_EARLY_BUFFER_12 = 14 + 1024;
/** Xen's per-update cap in the early path: min(1024, maxNumBytes) (Xen slaunch patch `MAX_HASH_BLOCK`). */
export const SEED_UPDATE_CAP = 1024;
/** The status value the seed's loops test: stsValid | dataAvail (0x90). */
const STS_VALID_DATA = TIS_STS.VALID | TIS_STS.DATA_AVAIL;

export class SeedDriver {
  constructor(
    private readonly bus: TisBus,
    private readonly spinLimit = SEED_SPIN_LIMIT,
  ) {}

  private spin(what: string, done: () => boolean): void {
    for (let i = 0; i < this.spinLimit; i++) if (done()) return;
    throw new TisTimeoutError(what, this.spinLimit);
  }

  private read8(loc: Locality, reg: number): number {
    return this.bus.read(locReg(loc, reg), 1);
  }
  private write8(loc: Locality, reg: number, v: number): void {
    this.bus.write(locReg(loc, reg), 1, v);
  }

  /** `request_locality`: write requestUse, then spin until activeLocality reads 1. */
  requestLocality(loc: Locality): void {
    this.write8(loc, TIS_REG.ACCESS, TIS_ACCESS.REQUEST_USE);
    this.spin(`activeLocality at locality ${loc}`, () => (this.read8(loc, TIS_REG.ACCESS) & TIS_ACCESS.ACTIVE_LOCALITY) !== 0);
  }

  /** `relinquish_locality`: write activeLocality (0x20). */
  relinquishLocality(loc: Locality): void {
    this.write8(loc, TIS_REG.ACCESS, TIS_ACCESS.ACTIVE_LOCALITY);
  }

  /**
   * `send_cmd`: the command is the first `iSize` bytes of `buf`; the response overwrites `buf`
   * from byte 0 and the "received size" is returned. Because the receive loop continues while
   * STS has *either* stsValid or dataAvail, it reads until `buf` is full (docs/tpm-quirks.md#fifo-over-read).
   */
  sendCmd(loc: Locality, buf: Uint8Array, iSize: number): number {
    if ((this.read8(loc, TIS_REG.STS) & TIS_STS.COMMAND_READY) === 0) {
      this.write8(loc, TIS_REG.STS, TIS_STS.COMMAND_READY);
      this.spin('commandReady', () => (this.read8(loc, TIS_REG.STS) & TIS_STS.COMMAND_READY) !== 0);
    }
    for (let i = 0; i < iSize; i++) this.write8(loc, TIS_REG.DATA_FIFO, buf[i] ?? 0);
    this.write8(loc, TIS_REG.STS, TIS_STS.TPM_GO);
    this.spin('stsValid|dataAvail', () => (this.read8(loc, TIS_REG.STS) & STS_VALID_DATA) === STS_VALID_DATA);
    let i = 0;
    while (i < buf.length && (this.read8(loc, TIS_REG.STS) & STS_VALID_DATA) !== 0) {
      buf[i++] = this.read8(loc, TIS_REG.DATA_FIFO);
    }
    this.write8(loc, TIS_REG.STS, TIS_STS.COMMAND_READY);
    return i;
  }
}

export interface SeedMeasurement12 {
  /** What Xen copies into its log entry: response bytes 10..29 (20 × 0xFF after an error response). */
  readonly hashValue: Uint8Array;
  /** The received size of the last exchange (always the whole buffer, docs/tpm-quirks.md#fifo-over-read). */
  readonly oSize: number;
  /** returnCode of the SHA1CompleteExtend response — which Xen never looks at (docs/tpm-quirks.md#fifo-over-read). */
  readonly ignoredReturnCode: number;
  /** Commands sent (SHA1Start + updates + CompleteExtend). */
  readonly commands: number;
}

/**
 * The seed's early TPM 1.2 MBI measurement (Xen slaunch patch: tpm12_hash_extend): request locality, SHA1Start, SHA1Update
 * in chunks of min(1024, maxNumBytes) (the last update shrunk to a multiple of 64), then
 * SHA1CompleteExtend(pcr) with the last 0..64 bytes, relinquish. maxNumBytes is trusted blindly;
 * where Xen would loop forever (maxNumBytes < 64) this throws TisTimeoutError instead.
 */
export function seedExtendMbi12(bus: TisBus, data: Uint8Array, pcr = 18, loc: Locality = 2, spinLimit = SEED_SPIN_LIMIT): SeedMeasurement12 {
  const drv = new SeedDriver(bus, spinLimit);
  const buf = new Uint8Array(SEED_EARLY_BUFFER_12);
  const exchange = (cmd: Uint8Array): number => {
    buf.set(cmd);
    return drv.sendCmd(loc, buf, cmd.length);
  };
  drv.requestLocality(loc);
  let commands = 1;
  exchange(sha1Start12());
  const maxNumBytes = u32be(buf, TPM12_HEADER_SIZE);
  let max = Math.min(SEED_UPDATE_CAP, maxNumBytes);
  let off = 0;
  let remaining = data.length;
  while (remaining > TPM12_SHA1_COMPLETE_MAX) {
    if (remaining < max) max = remaining - (remaining % SHA1_BLOCK);
    if (max <= 0) throw new TisTimeoutError(`progress: Xen would send 0-byte SHA1Updates forever (maxNumBytes ${maxNumBytes})`, commands);
    exchange(sha1Update12(data.subarray(off, off + max)));
    commands++;
    off += max;
    remaining -= max;
  }
  const oSize = exchange(sha1CompleteExtend12(pcr, data.subarray(off)));
  commands++;
  const result: SeedMeasurement12 = {
    hashValue: buf.slice(TPM12_HEADER_SIZE, TPM12_HEADER_SIZE + 20),
    oSize,
    ignoredReturnCode: u32be(buf, 6),
    commands,
  };
  drv.relinquishLocality(loc);
  return result;
}
