/**
 * Intel TXT 1.2 "Event Container" (TPM 1.2 DRTM log; tboot `include/txt/heap.h`
 * `event_log_container_t`, Linux `tpm12_event_log_header`): a 48-byte little-endian
 * header followed by packed TPM12_PCREvent records (32 bytes + data). The writer reproduces the
 * buffer exactly as the seed (Xen) leaves it in memory: writes are bounded by the SLRT log size,
 * an entry that does not fit is not written and NextEventOffset is unchanged (docs/tpm-quirks.md#log-gap).
 */
import { fromHex, putU32le, toHex, u32le } from '../bytes/index.js';
import { EventLogParseError } from './errors.js';
import { MAX_WRITER_LOG_BYTES, resolveLimits, type LogPoint, type ParseLimits } from './limits.js';

/** Header layout of the container (tboot `event_log_container_t`). */
export const TXT_CONTAINER = {
  /** "TXT Event Container" + one NUL = 20 bytes. */
  SIGNATURE: 'TXT Event Container\0',
  SIGNATURE_SIZE: 20,
  OFF_SIGNATURE: 0,
  OFF_RESERVED: 20,
  OFF_CONTAINER_VER_MAJOR: 32,
  OFF_CONTAINER_VER_MINOR: 33,
  OFF_PCR_EVENT_VER_MAJOR: 34,
  OFF_PCR_EVENT_VER_MINOR: 35,
  OFF_CONTAINER_SIZE: 36,
  OFF_PCR_EVENTS_OFFSET: 40,
  OFF_NEXT_EVENT_OFFSET: 44,
  HEADER_SIZE: 48,
  CONTAINER_VER_MAJOR: 1,
  CONTAINER_VER_MINOR: 0,
  PCR_EVENT_VER_MAJOR: 1,
  PCR_EVENT_VER_MINOR: 0,
  /** GRUB allocates 8 pages (TrenchBoot GRUB `grub-core/loader/i386/txt/txt.c`). */
  DEFAULT_SIZE: 32768,
} as const;

/** TPM12_PCREvent layout: PCRIndex u32, Type u32, Digest[20], Size u32, Data. */
export const TPM12_PCR_EVENT = {
  OFF_PCR_INDEX: 0,
  OFF_TYPE: 4,
  OFF_DIGEST: 8,
  OFF_SIZE: 28,
  HEADER_SIZE: 32,
  DIGEST_SIZE: 20,
} as const;

export interface TxtEventInput {
  pcr: number;
  type: number;
  /** SHA-1, 20 bytes. */
  digest: Uint8Array;
  data: Uint8Array;
}

export interface TxtEvent extends TxtEventInput {
  index: number;
  /** Offset of the record from the container start. */
  offset: number;
}

export interface TxtContainerHeader {
  signature: Uint8Array;
  reserved: Uint8Array;
  containerVerMajor: number;
  containerVerMinor: number;
  pcrEventVerMajor: number;
  pcrEventVerMinor: number;
  containerSize: number;
  pcrEventsOffset: number;
  nextEventOffset: number;
}

/** Plain-data snapshot (JSON-safe) of a writer. */
export interface TxtContainerSnapshot {
  kind: 'txt-container';
  size: number;
  containerSize: number;
  events: { pcr: number; type: number; digest: string; data: string }[];
}

const SIGNATURE_BYTES = new TextEncoder().encode(TXT_CONTAINER.SIGNATURE);

function checkU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name} must be a u32, got ${v}`);
}

/** Bytes a container holds before it first grows (it grows by doubling, never beyond its size). */
const INITIAL_CAPACITY = 512;

interface DigestUndo {
  index: number;
  digest: Uint8Array;
}

/** Where a log stood at `mark()`. */
interface LogMark {
  next: number;
  count: number;
  undo: DigestUndo[];
}

export class TxtContainerLog {
  /** SLRT log size = bytes available to the writer = length of bytes(). */
  readonly size: number;
  /** Value of the ContainerSize header field. */
  readonly containerSize: number;
  /** The bytes written so far; grows on demand up to `size` (reads past it are zero). */
  private buf: Uint8Array;
  private next: number = TXT_CONTAINER.HEADER_SIZE;
  /** Offset of every event written; the events themselves are read back from `buf` (nothing kept twice). */
  private readonly list: number[] = [];
  private undo: DigestUndo[] | undefined;

  /** Called with the bytes a growth of the buffer takes, before it takes them (may throw to refuse). */
  private readonly onGrow: ((bytes: number) => void) | undefined;

  constructor(opts: { size?: number; containerSize?: number; onGrow?: (bytes: number) => void } = {}) {
    this.onGrow = opts.onGrow;
    const size = opts.size ?? TXT_CONTAINER.DEFAULT_SIZE;
    if (!Number.isInteger(size) || size < TXT_CONTAINER.HEADER_SIZE || size > MAX_WRITER_LOG_BYTES) {
      throw new RangeError(`container size must be ${TXT_CONTAINER.HEADER_SIZE}..${MAX_WRITER_LOG_BYTES}, got ${size}`);
    }
    const containerSize = opts.containerSize ?? size;
    checkU32('containerSize', containerSize);
    this.size = size;
    this.containerSize = containerSize;
    this.buf = new Uint8Array(Math.min(size, INITIAL_CAPACITY));
    this.buf.set(SIGNATURE_BYTES, TXT_CONTAINER.OFF_SIGNATURE);
    this.buf[TXT_CONTAINER.OFF_CONTAINER_VER_MAJOR] = TXT_CONTAINER.CONTAINER_VER_MAJOR;
    this.buf[TXT_CONTAINER.OFF_CONTAINER_VER_MINOR] = TXT_CONTAINER.CONTAINER_VER_MINOR;
    this.buf[TXT_CONTAINER.OFF_PCR_EVENT_VER_MAJOR] = TXT_CONTAINER.PCR_EVENT_VER_MAJOR;
    this.buf[TXT_CONTAINER.OFF_PCR_EVENT_VER_MINOR] = TXT_CONTAINER.PCR_EVENT_VER_MINOR;
    putU32le(this.buf, TXT_CONTAINER.OFF_CONTAINER_SIZE, containerSize);
    putU32le(this.buf, TXT_CONTAINER.OFF_PCR_EVENTS_OFFSET, TXT_CONTAINER.HEADER_SIZE);
    putU32le(this.buf, TXT_CONTAINER.OFF_NEXT_EVENT_OFFSET, this.next);
  }

  /** Current NextEventOffset (relative to the container start). */
  get nextEventOffset(): number {
    return this.next;
  }

  /** Seed check (Xen slaunch patch: create_log_event12; docs/tpm-quirks.md#log-gap): NextEventOffset + 32 + dataSize ≤ SLRT size. */
  fits(dataSize: number): boolean {
    return Number.isInteger(dataSize) && dataSize >= 0 && this.next + TPM12_PCR_EVENT.HEADER_SIZE + dataSize <= this.size;
  }

  /** Append one TPM12_PCREvent; null (nothing written) when it does not fit. */
  append(ev: TxtEventInput): { index: number; offset: number } | null {
    checkU32('pcr', ev.pcr);
    checkU32('type', ev.type);
    if (ev.digest.length !== TPM12_PCR_EVENT.DIGEST_SIZE) {
      throw new RangeError(`digest must be ${TPM12_PCR_EVENT.DIGEST_SIZE} bytes, got ${ev.digest.length}`);
    }
    if (!this.fits(ev.data.length)) return null;
    const offset = this.next;
    this.reserve(offset + TPM12_PCR_EVENT.HEADER_SIZE + ev.data.length);
    const b = this.buf;
    putU32le(b, offset + TPM12_PCR_EVENT.OFF_PCR_INDEX, ev.pcr);
    putU32le(b, offset + TPM12_PCR_EVENT.OFF_TYPE, ev.type);
    b.set(ev.digest, offset + TPM12_PCR_EVENT.OFF_DIGEST);
    putU32le(b, offset + TPM12_PCR_EVENT.OFF_SIZE, ev.data.length);
    b.set(ev.data, offset + TPM12_PCR_EVENT.HEADER_SIZE);
    this.next = offset + TPM12_PCR_EVENT.HEADER_SIZE + ev.data.length;
    putU32le(b, TXT_CONTAINER.OFF_NEXT_EVENT_OFFSET, this.next);
    const index = this.list.length;
    this.list.push(offset);
    return { index, offset };
  }

  /** Grow the buffer (doubling, at most `size`) so that `end` bytes fit. */
  private reserve(end: number): void {
    if (end <= this.buf.length) return;
    let cap = this.buf.length;
    while (cap < end) cap *= 2;
    cap = Math.min(this.size, cap);
    this.onGrow?.(cap - this.buf.length);
    const grown = new Uint8Array(cap);
    grown.set(this.buf.subarray(0, this.next));
    this.buf = grown;
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
    const point: LogMark = { next: this.next, count: this.list.length, undo: this.undo };
    return { undo: () => this.rollbackTo(point), firstChanged: () => point.undo.reduce((m, u) => Math.min(m, u.index), point.count) };
  }

  /** Keep everything since the last mark (stop recording what would undo it). */
  release(): void {
    this.undo = undefined;
  }

  private rollbackTo(m: LogMark): void {
    for (const u of m.undo.reverse()) this.writeDigest(u.index, u.digest);
    this.buf.fill(0, m.next, this.next);
    this.next = m.next;
    putU32le(this.buf, TXT_CONTAINER.OFF_NEXT_EVENT_OFFSET, this.next);
    this.list.length = m.count;
    this.undo = undefined;
  }

  /**
   * Overwrite the Digest of an event already written (Xen fills it after appending: the TPM's
   * hashValue on the early path; Xen slaunch patch: tpm_hash_extend).
   */
  setDigest(index: number, digest: Uint8Array): void {
    const e = this.list[index];
    if (e === undefined) throw new RangeError(`no event ${index}`);
    if (digest.length !== TPM12_PCR_EVENT.DIGEST_SIZE) throw new RangeError(`digest must be ${TPM12_PCR_EVENT.DIGEST_SIZE} bytes`);
    this.undo?.push({ index, digest: this.event(index, e).digest });
    this.writeDigest(index, digest);
  }

  private writeDigest(index: number, digest: Uint8Array): void {
    const offset = this.list[index];
    if (offset === undefined) return;
    this.buf.set(digest, offset + TPM12_PCR_EVENT.OFF_DIGEST);
  }

  /** Event `index` at `offset`, read back from the buffer (copies). */
  private event(index: number, offset: number): TxtEvent {
    const b = this.buf;
    const dataLen = u32le(b, offset + TPM12_PCR_EVENT.OFF_SIZE);
    const data0 = offset + TPM12_PCR_EVENT.HEADER_SIZE;
    return {
      index,
      offset,
      pcr: u32le(b, offset + TPM12_PCR_EVENT.OFF_PCR_INDEX),
      type: u32le(b, offset + TPM12_PCR_EVENT.OFF_TYPE),
      digest: b.slice(offset + TPM12_PCR_EVENT.OFF_DIGEST, offset + TPM12_PCR_EVENT.OFF_DIGEST + TPM12_PCR_EVENT.DIGEST_SIZE),
      data: b.slice(data0, data0 + dataLen),
    };
  }

  /** Decoded list of the events written so far (copies). */
  events(): TxtEvent[] {
    return this.list.map((offset, i) => this.event(i, offset));
  }

  /** The whole container buffer (`size` bytes, unused space zero), as the seed's memory holds it. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    out.set(this.buf.subarray(0, this.next));
    return out;
  }

  /** Only the bytes in use: header + events, up to NextEventOffset. */
  usedBytes(): Uint8Array {
    return this.buf.slice(0, this.next);
  }

  toJSON(): TxtContainerSnapshot {
    return { ...this.headerJSON(), events: this.eventsJSON(0) };
  }

  /** The snapshot without its events (what does not grow with the log). */
  headerJSON(): TxtContainerSnapshot {
    return { kind: 'txt-container', size: this.size, containerSize: this.containerSize, events: [] };
  }

  /** The snapshot's events from index `from` on (a durable store appends only these). */
  eventsJSON(from: number): TxtContainerSnapshot['events'] {
    return this.list.slice(from).map((offset, i) => {
      const e = this.event(from + i, offset);
      return { pcr: e.pcr, type: e.type, digest: toHex(e.digest), data: toHex(e.data) };
    });
  }

  static fromJSON(s: TxtContainerSnapshot): TxtContainerLog {
    if (s.kind !== 'txt-container') throw new RangeError(`not a txt-container snapshot: ${String(s.kind)}`);
    const log = new TxtContainerLog({ size: s.size, containerSize: s.containerSize });
    for (const e of s.events) {
      if (log.append({ pcr: e.pcr, type: e.type, digest: fromHex(e.digest), data: fromHex(e.data) }) === null) {
        throw new RangeError('snapshot events do not fit the snapshot size');
      }
    }
    return log;
  }
}

export interface DecodedTxtContainer {
  header: TxtContainerHeader;
  events: TxtEvent[];
  /** Bytes of the input after NextEventOffset (unused space, zero for a writer's buffer). */
  trailing: Uint8Array;
}

/**
 * Decode a TXT event container. Events are read from PCREventsOffset to NextEventOffset; both
 * must lie inside the input. `base` is added to reported error offsets (nested containers, see spec-id.ts).
 */
export function decodeTxtContainer(bytes: Uint8Array, limits?: Partial<ParseLimits>, base = 0): DecodedTxtContainer {
  const lim = resolveLimits(limits);
  if (bytes.length > lim.maxLogBytes) {
    throw new EventLogParseError(`log is ${bytes.length} bytes, over maxLogBytes ${lim.maxLogBytes}`, base, -1);
  }
  if (bytes.length < TXT_CONTAINER.HEADER_SIZE) {
    throw new EventLogParseError(`TXT container header needs ${TXT_CONTAINER.HEADER_SIZE} bytes, have ${bytes.length}`, base, -1);
  }
  const sig = bytes.subarray(0, TXT_CONTAINER.SIGNATURE_SIZE);
  for (let i = 0; i < SIGNATURE_BYTES.length; i++) {
    if (sig[i] !== SIGNATURE_BYTES[i]) throw new EventLogParseError('bad TXT container signature', base + i, -1);
  }
  const header: TxtContainerHeader = {
    signature: sig.slice(),
    reserved: bytes.slice(TXT_CONTAINER.OFF_RESERVED, TXT_CONTAINER.OFF_CONTAINER_VER_MAJOR),
    containerVerMajor: bytes[TXT_CONTAINER.OFF_CONTAINER_VER_MAJOR] ?? 0,
    containerVerMinor: bytes[TXT_CONTAINER.OFF_CONTAINER_VER_MINOR] ?? 0,
    pcrEventVerMajor: bytes[TXT_CONTAINER.OFF_PCR_EVENT_VER_MAJOR] ?? 0,
    pcrEventVerMinor: bytes[TXT_CONTAINER.OFF_PCR_EVENT_VER_MINOR] ?? 0,
    containerSize: u32le(bytes, TXT_CONTAINER.OFF_CONTAINER_SIZE),
    pcrEventsOffset: u32le(bytes, TXT_CONTAINER.OFF_PCR_EVENTS_OFFSET),
    nextEventOffset: u32le(bytes, TXT_CONTAINER.OFF_NEXT_EVENT_OFFSET),
  };
  const start = header.pcrEventsOffset;
  const end = header.nextEventOffset;
  if (start < TXT_CONTAINER.HEADER_SIZE || start > bytes.length) {
    throw new EventLogParseError(`PCREventsOffset ${start} outside ${TXT_CONTAINER.HEADER_SIZE}..${bytes.length}`, base + TXT_CONTAINER.OFF_PCR_EVENTS_OFFSET, -1);
  }
  if (end < start || end > bytes.length) {
    throw new EventLogParseError(`NextEventOffset ${end} outside ${start}..${bytes.length}`, base + TXT_CONTAINER.OFF_NEXT_EVENT_OFFSET, -1);
  }
  const events: TxtEvent[] = [];
  let off = start;
  while (off < end) {
    const index = events.length;
    if (index >= lim.maxEvents) throw new EventLogParseError(`more than maxEvents ${lim.maxEvents} records`, base + off, index);
    if (end - off < TPM12_PCR_EVENT.HEADER_SIZE) {
      throw new EventLogParseError(`truncated TPM12_PCREvent: ${end - off} bytes left, need ${TPM12_PCR_EVENT.HEADER_SIZE}`, base + off, index);
    }
    const size = u32le(bytes, off + TPM12_PCR_EVENT.OFF_SIZE);
    if (size > lim.maxEventDataSize) {
      throw new EventLogParseError(`event Size ${size} over maxEventDataSize ${lim.maxEventDataSize}`, base + off + TPM12_PCR_EVENT.OFF_SIZE, index);
    }
    const dataOff = off + TPM12_PCR_EVENT.HEADER_SIZE;
    if (size > end - dataOff) {
      throw new EventLogParseError(`event Size ${size} past NextEventOffset (${end - dataOff} left)`, base + off + TPM12_PCR_EVENT.OFF_SIZE, index);
    }
    events.push({
      index,
      offset: off,
      pcr: u32le(bytes, off + TPM12_PCR_EVENT.OFF_PCR_INDEX),
      type: u32le(bytes, off + TPM12_PCR_EVENT.OFF_TYPE),
      digest: bytes.slice(off + TPM12_PCR_EVENT.OFF_DIGEST, off + TPM12_PCR_EVENT.OFF_DIGEST + TPM12_PCR_EVENT.DIGEST_SIZE),
      data: bytes.slice(dataOff, dataOff + size),
    });
    off = dataOff + size;
  }
  return { header, events, trailing: bytes.slice(end) };
}
