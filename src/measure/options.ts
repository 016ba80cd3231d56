/**
 * What a measurement request may say, its defaults, and the rules for reading them from text (query
 * strings and form fields). The defaults are the Secure Launch ones: PCR 18 at locality 2 with the
 * DLE_EVTYPE_SLAUNCH event type (Xen slaunch patch: the MBI measurement in tpm_extend_mbi; TrenchBoot
 * Secure Launch specification, event types).
 */
import { decodeBase64Strict } from '../bytes/index.js';
import { DomainError } from '../errors.js';
import { SLAUNCH_EVTYPE } from '../eventlog/constants.js';
import { isLocality, type Locality } from '../tpm/engine.js';
import type { Hashing, MeasureRequest } from './measure.js';

export const MEASURE_DEFAULTS = {
  pcr: 18,
  locality: 2 as Locality,
  eventType: SLAUNCH_EVTYPE.SLAUNCH,
  hashing: 'host' as Hashing,
} as const;

export const MEASURE_OPTION_NAMES = ['pcr', 'locality', 'eventType', 'eventData', 'hashing'] as const;
export type MeasureOptionName = (typeof MEASURE_OPTION_NAMES)[number];
/** Options as text, as they arrive in a query string or as form fields. */
export type RawMeasureOptions = Partial<Record<MeasureOptionName, string>>;

/** The prefix that marks binary event data sent as base64. */
export const BASE64_PREFIX = 'base64:';

function decimal(name: string, v: string, min: number, max: number): number {
  if (!/^[0-9]{1,10}$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new DomainError('invalid-option', `${name} must be a decimal integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return Number(v);
}

function eventTypeOf(v: string): number {
  const n = /^(0[xX][0-9a-fA-F]{1,8}|[0-9]{1,10})$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n > 0xffffffff) {
    throw new DomainError('invalid-option', `eventType must be a 32-bit integer, decimal or 0x-prefixed hex, got ${JSON.stringify(v)}`);
  }
  return n;
}

function eventDataOf(v: string | undefined): Uint8Array {
  if (v === undefined) return new Uint8Array(0);
  if (v.startsWith(BASE64_PREFIX)) {
    const bytes = decodeBase64Strict(v.slice(BASE64_PREFIX.length));
    if (!bytes) throw new DomainError('invalid-option', `eventData with the ${BASE64_PREFIX} prefix must be valid base64`);
    return bytes;
  }
  // U+FFFD is what a decoder puts where bytes were not UTF-8: logging it would log something the
  // client never sent. Binary data has the base64: form.
  if (v.includes('\uFFFD')) {
    throw new DomainError('invalid-option', `eventData text must be UTF-8 (it holds U+FFFD, the mark of bytes that were not); send binary data as ${BASE64_PREFIX}…`);
  }
  return new TextEncoder().encode(v);
}

/** Options as text → a measurement request; a 400 names the first option that is wrong. */
export function resolveMeasureOptions(raw: RawMeasureOptions, maxEventDataBytes: number): MeasureRequest {
  const hashing = raw.hashing ?? MEASURE_DEFAULTS.hashing;
  if (hashing !== 'host' && hashing !== 'tpm') throw new DomainError('invalid-option', `hashing must be host or tpm, got ${JSON.stringify(hashing)}`);
  const locality = raw.locality === undefined ? MEASURE_DEFAULTS.locality : decimal('locality', raw.locality, 0, 4);
  if (!isLocality(locality)) throw new DomainError('invalid-option', 'locality must be 0..4');
  const eventData = eventDataOf(raw.eventData);
  if (eventData.length > maxEventDataBytes) {
    throw new DomainError('invalid-option', `eventData is at most ${maxEventDataBytes} bytes (MAX_MEASUREMENT_EVENT_DATA_BYTES)`);
  }
  return {
    pcr: raw.pcr === undefined ? MEASURE_DEFAULTS.pcr : decimal('pcr', raw.pcr, 0, 23),
    locality,
    eventType: raw.eventType === undefined ? MEASURE_DEFAULTS.eventType : eventTypeOf(raw.eventType),
    eventData,
    hashing,
  };
}
