/**
 * A careful FIFO driver (what the 2026 TrenchBoot tree and Linux `tpm_tis_core` do;
 * contrast docs/tpm-quirks.md#seed-fifo-driver):
 * request use → commandReady → write in burstCount-sized pieces checking Expect → tpmGo → wait
 * for stsValid|dataAvail → read the header, then exactly paramSize bytes in bursts → check that
 * dataAvail dropped → commandReady → relinquish. Every wait is bounded. Interface failures throw
 * (TisTimeoutError, TisProtocolError); TPM errors come back as response codes.
 */
import { putU32le, u32be, u32le } from '../bytes/index.js';
import type { Locality } from '../tpm/engine.js';
import { TIS_ACCESS, TIS_BUFFER_MAX, TIS_CAP, TIS_REG, TIS_STS } from '../tis/registers.js';
import { locReg, TisProtocolError, TisTimeoutError, type TisBus } from './bus.js';

export interface CarefulDriverOptions {
  /** Reads per wait before giving up (default 100 000). */
  pollLimit?: number;
  /** Use 4-byte FIFO accesses where the interface supports wider transfers (default true). */
  wideFifo?: boolean;
}

/** Command/response header: tag u16, size u32, code u32 (TPM Main 1.2 and TPM 2.0 Part 3 command headers). */
const HEADER_SIZE = 10;
const STS_VALID_DATA = TIS_STS.VALID | TIS_STS.DATA_AVAIL;

export interface TpmExchange {
  readonly response: Uint8Array;
  /** returnCode / responseCode of the response header. */
  readonly rc: number;
}

export class CarefulDriver {
  private readonly pollLimit: number;
  private wide: boolean | undefined;

  constructor(
    private readonly bus: TisBus,
    private readonly opts: CarefulDriverOptions = {},
  ) {
    this.pollLimit = opts.pollLimit ?? 100_000;
  }

  private poll(what: string, read: () => number, ok: (v: number) => boolean): number {
    for (let i = 0; i < this.pollLimit; i++) {
      const v = read();
      if (ok(v)) return v;
    }
    throw new TisTimeoutError(what, this.pollLimit);
  }

  private sts8(loc: Locality): number {
    return this.bus.read(locReg(loc, TIS_REG.STS), 1);
  }

  /** 16-bit read of burstCount at 0x19, waiting for a non-zero value. */
  private burst(loc: Locality): number {
    return this.poll('burstCount > 0', () => this.bus.read(locReg(loc, TIS_REG.BURST_COUNT), 2), (v) => v > 0);
  }

  private stsValid(loc: Locality): number {
    return this.poll('stsValid', () => this.sts8(loc), (v) => (v & TIS_STS.VALID) !== 0);
  }

  private wideFifo(loc: Locality): boolean {
    if (this.wide === undefined) {
      const cap = this.bus.read(locReg(loc, TIS_REG.INTF_CAPABILITY), 4);
      this.wide = (this.opts.wideFifo ?? true) && (cap & TIS_CAP.DATA_TRANSFER_MASK) !== TIS_CAP.DATA_TRANSFER_LEGACY;
    }
    return this.wide;
  }

  /** Whether `loc` currently owns the TPM. */
  isActive(loc: Locality): boolean {
    return (this.bus.read(locReg(loc, TIS_REG.ACCESS), 1) & (TIS_ACCESS.ACTIVE_LOCALITY | TIS_ACCESS.TPM_REG_VALID_STS)) ===
      (TIS_ACCESS.ACTIVE_LOCALITY | TIS_ACCESS.TPM_REG_VALID_STS);
  }

  /** Request use of `loc` and wait (bounded) for it. Returns false if it was already active. */
  requestLocality(loc: Locality): boolean {
    if (this.isActive(loc)) return false;
    this.bus.write(locReg(loc, TIS_REG.ACCESS), 1, TIS_ACCESS.REQUEST_USE);
    try {
      this.poll(`activeLocality at locality ${loc}`, () => (this.isActive(loc) ? 1 : 0), (v) => v === 1);
    } catch (e) {
      this.bus.write(locReg(loc, TIS_REG.ACCESS), 1, TIS_ACCESS.ACTIVE_LOCALITY); // withdraw the request
      throw e;
    }
    return true;
  }

  relinquishLocality(loc: Locality): void {
    this.bus.write(locReg(loc, TIS_REG.ACCESS), 1, TIS_ACCESS.ACTIVE_LOCALITY);
  }

  private commandReady(loc: Locality): void {
    if ((this.sts8(loc) & TIS_STS.COMMAND_READY) !== 0) return;
    this.bus.write(locReg(loc, TIS_REG.STS), 1, TIS_STS.COMMAND_READY);
    this.poll('commandReady', () => this.sts8(loc), (v) => (v & TIS_STS.COMMAND_READY) !== 0);
  }

  /**
   * `count` command bytes into DATA_FIFO: 4-byte accesses while 4 or more are left if the interface
   * has a wide FIFO, then 1-byte accesses. A bus with `writeBytes` (the in-process TisDevice) takes
   * each run of equal-sized accesses at once (the same accesses, decoded once).
   */
  private writeFifo(loc: Locality, data: Uint8Array, from: number, count: number): void {
    const bus = this.bus;
    const fifo = locReg(loc, TIS_REG.DATA_FIFO);
    const end = from + count;
    const words = this.wideFifo(loc) ? (count - (count % 4)) / 4 : 0;
    if (bus.writeBytes) {
      if (words > 0) bus.writeBytes(fifo, data.subarray(from, from + 4 * words), 4);
      if (from + 4 * words < end) bus.writeBytes(fifo, data.subarray(from + 4 * words, end), 1);
      return;
    }
    let i = from;
    for (; i < from + 4 * words; i += 4) bus.write(fifo, 4, u32le(data, i));
    for (; i < end; i++) bus.write(fifo, 1, data[i] ?? 0);
  }

  private readFifo(loc: Locality, out: Uint8Array, from: number, count: number): void {
    const fifo = locReg(loc, TIS_REG.DATA_FIFO);
    const wide = this.wideFifo(loc);
    let i = from;
    const end = from + count;
    while (i < end) {
      if (wide && end - i >= 4) {
        const v = this.bus.read(fifo, 4);
        putU32le(out, i, v);
        i += 4;
      } else {
        out[i++] = this.bus.read(fifo, 1);
      }
    }
  }

  private send(loc: Locality, cmd: Uint8Array): void {
    const last = cmd.length - 1;
    let off = 0;
    while (off < last) {
      const n = Math.min(this.burst(loc), last - off);
      this.writeFifo(loc, cmd, off, n);
      off += n;
      if ((this.stsValid(loc) & TIS_STS.EXPECT) === 0) throw new TisProtocolError(`TPM stopped expecting data after ${off} of ${cmd.length} bytes`);
    }
    this.burst(loc);
    this.writeFifo(loc, cmd, last, 1);
    if ((this.stsValid(loc) & TIS_STS.EXPECT) !== 0) throw new TisProtocolError('TPM still expects data after the whole command');
  }

  private receiveInto(loc: Locality, out: Uint8Array, from: number, to: number): void {
    let off = from;
    while (off < to) {
      const n = Math.min(this.burst(loc), to - off);
      this.readFifo(loc, out, off, n);
      off += n;
    }
  }

  private receive(loc: Locality): Uint8Array {
    this.poll('stsValid|dataAvail', () => this.sts8(loc), (v) => (v & STS_VALID_DATA) === STS_VALID_DATA);
    const header = new Uint8Array(HEADER_SIZE);
    this.receiveInto(loc, header, 0, HEADER_SIZE);
    const size = u32be(header, 2);
    if (size < HEADER_SIZE || size > TIS_BUFFER_MAX) throw new TisProtocolError(`response paramSize ${size} out of range`);
    const rsp = new Uint8Array(size);
    rsp.set(header);
    this.receiveInto(loc, rsp, HEADER_SIZE, size);
    if ((this.stsValid(loc) & TIS_STS.DATA_AVAIL) !== 0) throw new TisProtocolError('dataAvail still set after paramSize bytes');
    return rsp;
  }

  /**
   * One command/response exchange at `loc`. Requests the locality if needed and relinquishes it
   * afterwards only if it requested it here. Throws on interface failure only.
   */
  transmit(loc: Locality, cmd: Uint8Array): Uint8Array {
    if (cmd.length < HEADER_SIZE) throw new RangeError('a TPM command has at least 10 bytes');
    const acquired = this.requestLocality(loc);
    try {
      this.commandReady(loc);
      this.send(loc, cmd);
      this.bus.write(locReg(loc, TIS_REG.STS), 1, TIS_STS.TPM_GO);
      const rsp = this.receive(loc);
      this.bus.write(locReg(loc, TIS_REG.STS), 1, TIS_STS.COMMAND_READY);
      return rsp;
    } catch (e) {
      this.bus.write(locReg(loc, TIS_REG.STS), 1, TIS_STS.COMMAND_READY);
      throw e;
    } finally {
      if (acquired) this.relinquishLocality(loc);
    }
  }

  /** `transmit`, with the response code decoded. */
  exchange(loc: Locality, cmd: Uint8Array): TpmExchange {
    const response = this.transmit(loc, cmd);
    return { response, rc: u32be(response, 6) };
  }
}
