/**
 * TCG PC Client crypto-agile event-log writer (TCG PC Client PFP TCG_PCR_EVENT2 and
 * Spec ID Event03), as the Xen series writes it on TPM 2.0 (Xen slaunch v3 13/22, x86/tpm.c), plus
 * the TXT heap HEAP_EVENT_LOG_POINTER_ELEMENT2_1 through which Xen finds it (tboot
 * `include/txt/heap.h`). Writes are bounded by the SLRT log size; an entry that does not fit is not
 * written (docs/tpm-quirks.md#tpm2-log-full).
 */
import { LeWriter, fromHex, putU32le, putU64le, toHex, u32le } from '../bytes/index.js';
import { EV } from './constants.js';
import { MAX_WRITER_LOG_BYTES, type LogPoint } from './limits.js';
import { SPEC_ID, bankOf, encodeSpecIdEvent03, toAlgorithmSize, type AlgorithmSize, type BankSpec } from './spec-id.js';

/** TCG_PCR_EVENT (SHA-1 layout) used for the header record. */
export const TCG_PCR_EVENT = {
  HEADER_SIZE: 32,
  DIGEST_SIZE: 20,
} as const;

/** HEAP_EVENT_LOG_POINTER_ELEMENT2_1 (tboot `include/txt/heap.h`, Linux `slaunch.h`). */
export const EVENT_LOG_POINTER2_1 = {
  SIZE: 20,
  OFF_PHYSICAL_ADDRESS: 0,
  OFF_ALLOCATED_EVENT_CONTAINER_SIZE: 8,
  OFF_FIRST_RECORD_OFFSET: 12,
  OFF_NEXT_RECORD_OFFSET: 16,
  /** OsSinitData extended element type (HEAP_EXTDATA_TYPE_EVENT_LOG_POINTER2_1). */
  HEAP_EXTDATA_TYPE: 8,
} as const;

export const TCG2_DEFAULT_SIZE = 32768;

/** OneDigest placeholder (TXT SDG; Xen for banks it does not hash in software): 0x01 then zeros. */
export function oneDigest(size: number): Uint8Array {
  const d = new Uint8Array(size);
  d[0] = 0x01;
  return d;
}

export interface Tcg2EventInput {
  pcr: number;
  type: number;
  /** One digest per header bank, in header order, or keyed by bank name. Every header bank is required. */
  digests: readonly Uint8Array[] | Partial<Record<string, Uint8Array>>;
  data: Uint8Array;
}

export interface Tcg2WrittenEvent {
  index: number;
  /** Offset of the record from the log start. */
  offset: number;
  pcr: number;
  type: number;
  /** Digests in header order. */
  digests: { algorithmId: number; digest: Uint8Array }[];
  data: Uint8Array;
}

export interface Tcg2LogOptions {
  /** Banks of the Spec ID header, in order (e.g. ['sha1', 'sha256']). */
  banks: readonly BankSpec[];
  /** SLRT log size: append refuses what would pass it. Default 32768. */
  size?: number;
  /** Called with the bytes a new record takes, before it is stored (may throw to refuse). */
  onGrow?: (bytes: number) => void;
  platformClass?: number;
  specErrata?: number;
  uintnSize?: number;
  vendorInfo?: Uint8Array;
}

export interface Pointer2_1 {
  bytes: Uint8Array;
  physicalAddress: bigint;
  allocatedEventContainerSize: number;
  firstRecordOffset: number;
  nextRecordOffset: number;
}

export interface Tcg2LogSnapshot {
  kind: 'tcg2';
  size: number;
  banks: AlgorithmSize[];
  platformClass: number;
  specErrata: number;
  uintnSize: number;
  vendorInfo: string;
  events: { pcr: number; type: number; digests: string[]; data: string }[];
}

function checkU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name} must be a u32, got ${v}`);
}

/** Encode the Spec ID Event03 header record (TCG_PCR_EVENT layout, pcrIndex 0, EV_NO_ACTION, zero digest). */
export function encodeSpecIdHeaderRecord(spec: Parameters<typeof encodeSpecIdEvent03>[0]): Uint8Array {
  const data = encodeSpecIdEvent03(spec);
  return new LeWriter(TCG_PCR_EVENT.HEADER_SIZE + data.length)
    .u32(0)
    .u32(EV.NO_ACTION)
    .bytes(new Uint8Array(TCG_PCR_EVENT.DIGEST_SIZE))
    .u32(data.length)
    .bytes(data)
    .finish();
}

/** Encode one TCG_PCR_EVENT2 record. */
export function encodePcrEvent2(
  pcr: number,
  type: number,
  digests: readonly { algorithmId: number; digest: Uint8Array }[],
  data: Uint8Array,
): Uint8Array {
  const w = new LeWriter(16 + data.length).u32(pcr).u32(type).u32(digests.length);
  for (const d of digests) w.u16(d.algorithmId).bytes(d.digest);
  return w.u32(data.length).bytes(data).finish();
}

interface Tcg2DigestUndo {
  index: number;
  pos: number;
  digest: Uint8Array;
}

/** Where a log stood at `mark()`. */
interface Tcg2LogMark {
  used: number;
  count: number;
  undo: Tcg2DigestUndo[];
}

export class Tcg2Log {
  readonly size: number;
  readonly banks: readonly AlgorithmSize[];
  readonly platformClass: number;
  readonly specErrata: number;
  readonly uintnSize: number;
  readonly vendorInfo: Uint8Array;
  /** Length of the Spec ID header record = FirstRecordOffset of the first TCG_PCR_EVENT2. */
  readonly headerSize: number;
  private readonly chunks: Uint8Array[] = [];
  private used = 0;
  /** Offset of every record written; the events are read back from `chunks` (nothing kept twice). */
  private readonly list: number[] = [];
  private undo: Tcg2DigestUndo[] | undefined;
  private readonly onGrow: ((bytes: number) => void) | undefined;

  constructor(opts: Tcg2LogOptions) {
    const size = opts.size ?? TCG2_DEFAULT_SIZE;
    this.onGrow = opts.onGrow;
    if (!Number.isInteger(size) || size < 0 || size > MAX_WRITER_LOG_BYTES) {
      throw new RangeError(`log size must be 0..${MAX_WRITER_LOG_BYTES}, got ${size}`);
    }
    if (opts.banks.length === 0) throw new RangeError('at least one bank is required');
    this.banks = opts.banks.map(toAlgorithmSize);
    const ids = new Set(this.banks.map((b) => b.algorithmId));
    if (ids.size !== this.banks.length) throw new RangeError('a bank is listed twice');
    this.size = size;
    this.platformClass = opts.platformClass ?? SPEC_ID.PLATFORM_CLASS_CLIENT;
    this.specErrata = opts.specErrata ?? 0;
    this.uintnSize = opts.uintnSize ?? SPEC_ID.UINTN_SIZE_UINT64;
    this.vendorInfo = (opts.vendorInfo ?? new Uint8Array(0)).slice();
    if (this.vendorInfo.length > 0xff) throw new RangeError('vendorInfo is at most 255 bytes');
    const header = encodeSpecIdHeaderRecord({
      platformClass: this.platformClass,
      specVersionMinor: 0,
      specVersionMajor: 2,
      specErrata: this.specErrata,
      uintnSize: this.uintnSize,
      algorithms: [...this.banks],
      vendorInfo: this.vendorInfo,
    });
    if (header.length > size) throw new RangeError(`Spec ID header (${header.length} bytes) does not fit size ${size}`);
    this.headerSize = header.length;
    this.chunks.push(header);
    this.used = header.length;
  }

  /** Bytes of one TCG_PCR_EVENT2 with this header's banks: 12 + Σ(2 + size) + 4 + data. */
  entrySize(dataSize: number): number {
    let n = 16 + dataSize;
    for (const b of this.banks) n += 2 + b.digestSize;
    return n;
  }

  /** Offset of the next record = NextRecordOffset. */
  get nextRecordOffset(): number {
    return this.used;
  }

  fits(dataSize: number): boolean {
    return Number.isInteger(dataSize) && dataSize >= 0 && this.used + this.entrySize(dataSize) <= this.size;
  }

  private orderDigests(d: Tcg2EventInput['digests']): { algorithmId: number; digest: Uint8Array }[] {
    const isArray = (x: Tcg2EventInput['digests']): x is readonly Uint8Array[] => Array.isArray(x);
    return this.banks.map((b, i) => {
      let v: Uint8Array | undefined;
      if (isArray(d)) v = d[i];
      else {
        const name = bankOf(b.algorithmId);
        v = d[name ?? `0x${b.algorithmId.toString(16).padStart(4, '0')}`];
      }
      if (!v) throw new RangeError(`missing digest for algorithm 0x${b.algorithmId.toString(16).padStart(4, '0')}`);
      if (v.length !== b.digestSize) throw new RangeError(`digest for 0x${b.algorithmId.toString(16).padStart(4, '0')} must be ${b.digestSize} bytes`);
      return { algorithmId: b.algorithmId, digest: v.slice() };
    });
  }

  /** Append one record; null (nothing written) when it would pass the size. */
  append(ev: Tcg2EventInput): { index: number; offset: number } | null {
    checkU32('pcr', ev.pcr);
    checkU32('type', ev.type);
    const digests = this.orderDigests(ev.digests);
    if (!this.fits(ev.data.length)) return null;
    this.onGrow?.(this.entrySize(ev.data.length));
    const rec = encodePcrEvent2(ev.pcr, ev.type, digests, ev.data);
    const offset = this.used;
    this.chunks.push(rec);
    this.used += rec.length;
    const index = this.list.length;
    this.list.push(offset);
    return { index, offset };
  }

  /**
   * Overwrite one bank's digest of an event already written (Xen's early path copies the digests
   * of EventSequenceComplete into the entry after building it; docs/tpm-quirks.md#event-sequence-digests).
   */
  setDigest(index: number, bank: string | number, digest: Uint8Array): void {
    const e = this.list[index] === undefined ? undefined : this.event(index);
    const chunk = this.chunks[index + 1];
    if (!e || !chunk) throw new RangeError(`no event ${index}`);
    const pos = this.banks.findIndex((b) => (typeof bank === 'number' ? b.algorithmId === bank : bankOf(b.algorithmId) === bank));
    const alg = this.banks[pos];
    const slot = e.digests[pos];
    if (!alg || !slot) throw new RangeError(`bank ${String(bank)} is not in the header`);
    if (digest.length !== alg.digestSize) throw new RangeError(`digest must be ${alg.digestSize} bytes`);
    this.undo?.push({ index, pos, digest: slot.digest });
    this.writeDigest(index, pos, digest);
  }

  private writeDigest(index: number, pos: number, digest: Uint8Array): void {
    const chunk = this.chunks[index + 1];
    if (!chunk || pos < 0 || pos >= this.banks.length) return;
    let off = 12;
    for (let i = 0; i < pos; i++) off += 2 + (this.banks[i]?.digestSize ?? 0);
    chunk.set(digest, off + 2);
  }

  /** Event `index`, read back from its record (TCG_PCR_EVENT2: pcr, type, count, digests, size, data; copies). */
  private event(index: number): Tcg2WrittenEvent {
    const rec = this.chunks[index + 1] as Uint8Array;
    let off = 12;
    const digests = this.banks.map((b) => {
      const d = { algorithmId: b.algorithmId, digest: rec.slice(off + 2, off + 2 + b.digestSize) };
      off += 2 + b.digestSize;
      return d;
    });
    const size = u32le(rec, off);
    return { index, offset: this.list[index] ?? 0, pcr: u32le(rec, 0), type: u32le(rec, 4), digests, data: rec.slice(off + 4, off + 4 + size) };
  }

  /** Number of events written. */
  get eventCount(): number {
    return this.list.length;
  }

  /**
   * A point to come back to: `undo()` takes back everything appended or overwritten since (in
   * O(what changed)); `firstChanged()` is the index of the first event appended or overwritten since.
   */
  mark(): LogPoint {
    this.undo = [];
    const point: Tcg2LogMark = { used: this.used, count: this.list.length, undo: this.undo };
    return { undo: () => this.rollbackTo(point), firstChanged: () => point.undo.reduce((m, u) => Math.min(m, u.index), point.count) };
  }

  /** Keep everything since the last mark (stop recording what would undo it). */
  release(): void {
    this.undo = undefined;
  }

  private rollbackTo(m: Tcg2LogMark): void {
    for (const u of m.undo.reverse()) this.writeDigest(u.index, u.pos, u.digest);
    this.used = m.used;
    this.list.length = m.count;
    this.chunks.length = m.count + 1;
    this.undo = undefined;
  }

  events(): Tcg2WrittenEvent[] {
    return this.list.map((_, i) => this.event(i));
  }

  /** Header + records, no padding. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.used);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }

  /** The log buffer as it sits in memory: `size` bytes, zero after the last record. */
  bufferBytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    out.set(this.bytes());
    return out;
  }

  /** HEAP_EVENT_LOG_POINTER_ELEMENT2_1 as Xen reads it from OsSinitData (Xen slaunch v3 13/22). */
  pointer2_1(opts: { physicalAddress?: bigint } = {}): Pointer2_1 {
    const physicalAddress = opts.physicalAddress ?? 0n;
    if (physicalAddress < 0n || physicalAddress > 0xffffffffffffffffn) throw new RangeError('physicalAddress must be a u64');
    const bytes = new Uint8Array(EVENT_LOG_POINTER2_1.SIZE);
    putU64le(bytes, EVENT_LOG_POINTER2_1.OFF_PHYSICAL_ADDRESS, physicalAddress);
    putU32le(bytes, EVENT_LOG_POINTER2_1.OFF_ALLOCATED_EVENT_CONTAINER_SIZE, this.size);
    putU32le(bytes, EVENT_LOG_POINTER2_1.OFF_FIRST_RECORD_OFFSET, 0);
    putU32le(bytes, EVENT_LOG_POINTER2_1.OFF_NEXT_RECORD_OFFSET, this.used);
    return { bytes, physicalAddress, allocatedEventContainerSize: this.size, firstRecordOffset: 0, nextRecordOffset: this.used };
  }

  toJSON(): Tcg2LogSnapshot {
    return { ...this.headerJSON(), events: this.eventsJSON(0) };
  }

  /** The snapshot without its events (what does not grow with the log). */
  headerJSON(): Tcg2LogSnapshot {
    return {
      kind: 'tcg2',
      size: this.size,
      banks: this.banks.map((b) => ({ ...b })),
      platformClass: this.platformClass,
      specErrata: this.specErrata,
      uintnSize: this.uintnSize,
      vendorInfo: toHex(this.vendorInfo),
      events: [],
    };
  }

  /** The snapshot's events from index `from` on (a durable store appends only these). */
  eventsJSON(from: number): Tcg2LogSnapshot['events'] {
    const out: Tcg2LogSnapshot['events'] = [];
    for (let i = from; i < this.list.length; i++) {
      const e = this.event(i);
      out.push({ pcr: e.pcr, type: e.type, digests: e.digests.map((d) => toHex(d.digest)), data: toHex(e.data) });
    }
    return out;
  }

  static fromJSON(s: Tcg2LogSnapshot): Tcg2Log {
    if (s.kind !== 'tcg2') throw new RangeError(`not a tcg2 snapshot: ${String(s.kind)}`);
    const log = new Tcg2Log({
      banks: s.banks,
      size: s.size,
      platformClass: s.platformClass,
      specErrata: s.specErrata,
      uintnSize: s.uintnSize,
      vendorInfo: fromHex(s.vendorInfo),
    });
    for (const e of s.events) {
      if (log.append({ pcr: e.pcr, type: e.type, digests: e.digests.map(fromHex), data: fromHex(e.data) }) === null) {
        throw new RangeError('snapshot events do not fit the snapshot size');
      }
    }
    return log;
  }
}
