/**
 * Event-log parser: format detection and the three record layouts (Intel TXT event container,
 * tboot `include/txt/heap.h`; TCG PC Client PFP TCG_PCClientPCREvent, TCG_PCR_EVENT2). Every length is checked against what
 * remains and against a named cap (limits.ts) before anything is allocated.
 */
import { TPM_ALG } from '../hash/index.js';
import { EV } from './constants.js';
import { EventLogParseError } from './errors.js';
import { resolveLimits, type ParseLimits } from './limits.js';
import type { LogDigest, LogEvent, LogFormat, ParsedLog } from './model.js';
import { LeCursor, paddingStart } from './reader.js';
import {
  SPEC_ID,
  bankOf,
  decodeSpecIdEvent00,
  decodeSpecIdEvent03,
  isSpecId00,
  isSpecId03,
  type AlgorithmSize,
} from './spec-id.js';
import { TPM12_PCR_EVENT, TXT_CONTAINER, decodeTxtContainer } from './txt-container.js';

export interface ParseOptions {
  /** Force a format; default: detect. */
  format?: LogFormat | 'auto';
  limits?: Partial<ParseLimits>;
}

const TXT_SIG = new TextEncoder().encode(TXT_CONTAINER.SIGNATURE);
const SHA1_ALG: AlgorithmSize = { algorithmId: TPM_ALG.SHA1, digestSize: TPM12_PCR_EVENT.DIGEST_SIZE };

function startsWithAt(b: Uint8Array, off: number, sig: Uint8Array): boolean {
  if (off < 0 || b.length - off < sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[off + i] !== sig[i]) return false;
  return true;
}

/** Offset of vendorInfo in a Spec ID Event00 header record whose vendorInfo is a TXT container, else -1. */
function embeddedContainerOffset(b: Uint8Array): number {
  const H = TPM12_PCR_EVENT.HEADER_SIZE;
  const v = H + SPEC_ID.OFF00_VENDOR_INFO;
  if (b.length < v + TXT_CONTAINER.HEADER_SIZE) return -1;
  if (new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(4, true) !== EV.NO_ACTION) return -1;
  if (!isSpecId00(b.subarray(H, H + 16))) return -1;
  return startsWithAt(b, v, TXT_SIG) ? v : -1;
}

/** Detect the layout from the first bytes (no record walk). */
export function detectFormat(bytes: Uint8Array): LogFormat {
  if (startsWithAt(bytes, 0, TXT_SIG) || embeddedContainerOffset(bytes) >= 0) return 'txt-container';
  const H = TPM12_PCR_EVENT.HEADER_SIZE;
  if (bytes.length >= H + 16) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (dv.getUint32(4, true) === EV.NO_ACTION && isSpecId03(bytes.subarray(H, H + 16))) return 'tcg2-agile';
  }
  return 'tpm12-sha1';
}

/** One record in the SHA-1 layout: PCRIndex, Type, Digest[20], Size, Data. */
function readPcrEvent(c: LeCursor, lim: ParseLimits, index: number): LogEvent {
  c.recordIndex = index;
  const offset = c.pos;
  c.need(TPM12_PCR_EVENT.HEADER_SIZE, 'TCG_PCR_EVENT header');
  const pcr = c.u32le('pcrIndex');
  const type = c.u32le('eventType');
  const digest = c.take(TPM12_PCR_EVENT.DIGEST_SIZE, 'SHA-1 digest');
  const sizeAt = c.pos;
  const size = c.u32le('eventSize');
  if (size > lim.maxEventDataSize) c.fail(`eventSize ${size} over maxEventDataSize ${lim.maxEventDataSize}`, sizeAt);
  if (size > c.remaining) c.fail(`eventSize ${size} past the end (${c.remaining} left)`, sizeAt);
  const data = c.take(size, 'event data');
  return {
    index,
    offset: c.base + offset,
    size: c.pos - offset,
    layout: 'pcr-event',
    pcr,
    type,
    digests: [{ algorithmId: TPM_ALG.SHA1, bank: 'sha1', digest }],
    data,
  };
}

/** One TCG_PCR_EVENT2 record; digest sizes come from the Spec ID header. */
function readPcrEvent2(c: LeCursor, lim: ParseLimits, index: number, algs: readonly AlgorithmSize[]): LogEvent {
  c.recordIndex = index;
  const offset = c.pos;
  const pcr = c.u32le('pcrIndex');
  const type = c.u32le('eventType');
  const countAt = c.pos;
  const count = c.u32le('digests.count');
  if (count > lim.maxDigestsPerRecord) c.fail(`digests.count ${count} over maxDigestsPerRecord ${lim.maxDigestsPerRecord}`, countAt);
  if (count > algs.length) c.fail(`digests.count ${count} exceeds the ${algs.length} algorithms of the Spec ID header`, countAt);
  const digests: LogDigest[] = [];
  for (let i = 0; i < count; i++) {
    const algAt = c.pos;
    const algorithmId = c.u16le('hashAlg');
    const alg = algs.find((a) => a.algorithmId === algorithmId);
    if (!alg) c.fail(`hashAlg 0x${algorithmId.toString(16).padStart(4, '0')} not in the Spec ID header`, algAt);
    if (digests.some((d) => d.algorithmId === algorithmId)) c.fail(`hashAlg 0x${algorithmId.toString(16).padStart(4, '0')} twice in one record`, algAt);
    digests.push({ algorithmId, bank: bankOf(algorithmId) ?? null, digest: c.take(alg.digestSize, 'digest') });
  }
  const sizeAt = c.pos;
  const size = c.u32le('eventSize');
  if (size > lim.maxEventDataSize) c.fail(`eventSize ${size} over maxEventDataSize ${lim.maxEventDataSize}`, sizeAt);
  if (size > c.remaining) c.fail(`eventSize ${size} past the end (${c.remaining} left)`, sizeAt);
  const data = c.take(size, 'event data');
  return { index, offset: c.base + offset, size: c.pos - offset, layout: 'pcr-event2', pcr, type, digests, data };
}

function checkEventCount(c: LeCursor, lim: ParseLimits, n: number): void {
  c.recordIndex = n;
  if (n >= lim.maxEvents) c.fail(`more than maxEvents ${lim.maxEvents} records`);
}

function parseAgile(bytes: Uint8Array, lim: ParseLimits): ParsedLog {
  const c = new LeCursor(bytes);
  const warnings: string[] = [];
  const header = readPcrEvent(c, lim, 0);
  if (header.type !== EV.NO_ACTION || !isSpecId03(header.data)) {
    throw new EventLogParseError('first record is not an EV_NO_ACTION "Spec ID Event03"', 0, 0);
  }
  if (header.pcr !== 0) warnings.push(`Spec ID header on PCR ${header.pcr}, expected 0`);
  if (!(header.digests[0]?.digest.every((x) => x === 0) ?? true)) warnings.push('Spec ID header digest is not zero');
  const dataStart = header.offset + TPM12_PCR_EVENT.HEADER_SIZE;
  // The structure may run past eventSize (vendorInfo past the record, as in specid-vendordata).
  const { spec, consumed } = decodeSpecIdEvent03(bytes.subarray(dataStart), lim, dataStart);
  if (consumed > header.data.length) {
    warnings.push(`Spec ID vendorInfo runs ${consumed - header.data.length} bytes past eventSize ${header.data.length}`);
    header.declaredDataSize = header.data.length;
    header.data = bytes.slice(dataStart, dataStart + consumed);
    header.size = TPM12_PCR_EVENT.HEADER_SIZE + consumed;
    c.pos = dataStart + consumed;
  } else if (consumed < header.data.length) {
    warnings.push(`Spec ID header has ${header.data.length - consumed} bytes after vendorInfo`);
  }
  const events: LogEvent[] = [header];
  const pad = paddingStart(bytes, c.pos);
  while (c.pos < bytes.length && c.pos < pad) {
    checkEventCount(c, lim, events.length);
    events.push(readPcrEvent2(c, lim, events.length, spec.algorithms));
  }
  const trailing = bytes.slice(c.pos);
  if (trailing.length > 0) warnings.push(`${trailing.length} padding bytes after the last record`);
  return { format: 'tcg2-agile', algorithms: spec.algorithms, specId: spec, specId00: null, container: null, events, trailing, warnings };
}

function parseTpm12(bytes: Uint8Array, lim: ParseLimits): ParsedLog {
  const c = new LeCursor(bytes);
  const events: LogEvent[] = [];
  const pad = paddingStart(bytes, 0);
  while (c.pos < bytes.length && c.pos < pad) {
    checkEventCount(c, lim, events.length);
    events.push(readPcrEvent(c, lim, events.length));
  }
  if (events.length === 0) throw new EventLogParseError('no records', 0, -1);
  const trailing = bytes.slice(c.pos);
  const warnings = trailing.length > 0 ? [`${trailing.length} padding bytes after the last record`] : [];
  return { format: 'tpm12-sha1', algorithms: [SHA1_ALG], specId: null, specId00: null, container: null, events, trailing, warnings };
}

function parseContainer(bytes: Uint8Array, lim: ParseLimits): ParsedLog {
  const events: LogEvent[] = [];
  let specId00 = null;
  let base = 0;
  if (!startsWithAt(bytes, 0, TXT_SIG)) {
    base = embeddedContainerOffset(bytes);
    if (base < 0) throw new EventLogParseError('neither a TXT event container nor a Spec ID Event00 header holding one', 0, -1);
    const c = new LeCursor(bytes);
    const header = readPcrEvent(c, lim, 0);
    specId00 = decodeSpecIdEvent00(header.data, header.offset + TPM12_PCR_EVENT.HEADER_SIZE);
    events.push(header);
  }
  const dec = decodeTxtContainer(bytes.subarray(base), lim, base);
  if (events.length + dec.events.length > lim.maxEvents) {
    throw new EventLogParseError(`more than maxEvents ${lim.maxEvents} records`, base, lim.maxEvents);
  }
  if (specId00 && base + dec.header.pcrEventsOffset < (events[0]?.size ?? 0)) {
    throw new EventLogParseError('container events overlap the Spec ID Event00 header record', base + TXT_CONTAINER.OFF_PCR_EVENTS_OFFSET, -1);
  }
  const gapStart = specId00 ? (events[0]?.size ?? 0) - base : TXT_CONTAINER.HEADER_SIZE;
  for (const e of dec.events) {
    events.push({
      index: events.length,
      offset: base + e.offset,
      size: TPM12_PCR_EVENT.HEADER_SIZE + e.data.length,
      layout: 'pcr-event',
      pcr: e.pcr,
      type: e.type,
      digests: [{ algorithmId: TPM_ALG.SHA1, bank: 'sha1', digest: e.digest }],
      data: e.data,
    });
  }
  return {
    format: 'txt-container',
    algorithms: [SHA1_ALG],
    specId: null,
    specId00,
    container: {
      base,
      header: dec.header,
      gap: bytes.slice(base + gapStart, base + dec.header.pcrEventsOffset),
      embedded: specId00 !== null,
    },
    events,
    trailing: dec.trailing,
    warnings: [],
  };
}

/** Parse an event log; throws EventLogParseError (never anything else) on bad input. */
export function parseEventLog(bytes: Uint8Array, opts: ParseOptions = {}): ParsedLog {
  const lim = resolveLimits(opts.limits);
  if (bytes.length > lim.maxLogBytes) {
    throw new EventLogParseError(`log is ${bytes.length} bytes, over maxLogBytes ${lim.maxLogBytes}`, 0, -1);
  }
  if (bytes.length === 0) throw new EventLogParseError('empty log', 0, -1);
  const format = !opts.format || opts.format === 'auto' ? detectFormat(bytes) : opts.format;
  switch (format) {
    case 'tcg2-agile':
      return parseAgile(bytes, lim);
    case 'tpm12-sha1':
      return parseTpm12(bytes, lim);
    case 'txt-container':
      return parseContainer(bytes, lim);
  }
}
