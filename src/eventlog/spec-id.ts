/**
 * TCG_EfiSpecIDEvent ("Spec ID Event03", TCG PC Client PFP) and the TCG 1.2
 * "Spec ID Event00" header (Linux `include/linux/tpm_eventlog.h`, TrenchBoot secure-kernel-loader
 * `event_log.c`): encode and decode of the event *data*.
 */
import { LeWriter, u16le, u32le } from '../bytes/index.js';
import { algById, algByName, type BankName } from '../hash/index.js';
import { EventLogParseError } from './errors.js';
import type { ParseLimits } from './limits.js';

export const SPEC_ID = {
  SIGNATURE03: 'Spec ID Event03\0',
  SIGNATURE00: 'Spec ID Event00\0',
  SIGNATURE_SIZE: 16,
  /** Fixed part of Event03 data before digestSizes[]: signature, platformClass, 4 bytes, numberOfAlgorithms. */
  FIXED03_SIZE: 28,
  /** Fixed part of Event00 data before vendorInfoSize: signature, platformClass, 4 bytes. */
  FIXED00_SIZE: 24,
  PLATFORM_CLASS_CLIENT: 0,
  PLATFORM_CLASS_SERVER: 1,
  UINTN_SIZE_UINT32: 1,
  UINTN_SIZE_UINT64: 2,
  /** Field offsets inside the event data (both signatures). */
  OFF_PLATFORM_CLASS: 16,
  OFF_SPEC_VERSION_MINOR: 20,
  OFF_SPEC_VERSION_MAJOR: 21,
  OFF_SPEC_ERRATA: 22,
  OFF_UINTN_SIZE: 23,
  /** Event03 only. */
  OFF_NUMBER_OF_ALGORITHMS: 24,
  /** Event00: vendorInfoSize follows the fixed part. */
  OFF00_VENDOR_INFO_SIZE: 24,
  OFF00_VENDOR_INFO: 25,
} as const;

export const SIGNATURE03_BYTES = new TextEncoder().encode(SPEC_ID.SIGNATURE03);
export const SIGNATURE00_BYTES = new TextEncoder().encode(SPEC_ID.SIGNATURE00);

/** TCG_EfiSpecIdEventAlgorithmSize. */
export interface AlgorithmSize {
  algorithmId: number;
  digestSize: number;
}

/** A bank given by name (from the hash table) or by raw TPM_ALG_ID and size. */
export type BankSpec = BankName | AlgorithmSize;

export function toAlgorithmSize(b: BankSpec): AlgorithmSize {
  if (typeof b === 'string') {
    const a = algByName(b);
    if (!a) throw new RangeError(`unknown bank ${b}`);
    return { algorithmId: a.algId, digestSize: a.size };
  }
  return { algorithmId: b.algorithmId, digestSize: b.digestSize };
}

/** BankName of an algorithm id, if the hash table knows it. */
export function bankOf(algorithmId: number): BankName | undefined {
  return algById(algorithmId)?.name;
}

export interface SpecIdEvent03 {
  kind: 'spec-id-03';
  platformClass: number;
  specVersionMinor: number;
  specVersionMajor: number;
  specErrata: number;
  uintnSize: number;
  algorithms: AlgorithmSize[];
  vendorInfo: Uint8Array;
}

export interface SpecIdEvent00 {
  kind: 'spec-id-00';
  platformClass: number;
  specVersionMinor: number;
  specVersionMajor: number;
  specErrata: number;
  uintnSize: number;
  vendorInfo: Uint8Array;
}

export function encodeSpecIdEvent03(s: Omit<SpecIdEvent03, 'kind'>): Uint8Array {
  const w = new LeWriter(64).bytes(SIGNATURE03_BYTES).u32(s.platformClass);
  w.u8(s.specVersionMinor).u8(s.specVersionMajor).u8(s.specErrata).u8(s.uintnSize);
  w.u32(s.algorithms.length);
  for (const a of s.algorithms) w.u16(a.algorithmId).u16(a.digestSize);
  w.u8(s.vendorInfo.length).bytes(s.vendorInfo);
  return w.finish();
}

export function encodeSpecIdEvent00(s: Omit<SpecIdEvent00, 'kind'>): Uint8Array {
  const w = new LeWriter(64).bytes(SIGNATURE00_BYTES).u32(s.platformClass);
  w.u8(s.specVersionMinor).u8(s.specVersionMajor).u8(s.specErrata).u8(s.uintnSize);
  w.u8(s.vendorInfo.length).bytes(s.vendorInfo);
  return w.finish();
}

/** platformClass … uintnSize, common to Event03 and Event00 (caller checked the length). */
function commonFields(data: Uint8Array): Pick<SpecIdEvent03, 'platformClass' | 'specVersionMinor' | 'specVersionMajor' | 'specErrata' | 'uintnSize'> {
  return {
    platformClass: u32le(data, SPEC_ID.OFF_PLATFORM_CLASS),
    specVersionMinor: data[SPEC_ID.OFF_SPEC_VERSION_MINOR] ?? 0,
    specVersionMajor: data[SPEC_ID.OFF_SPEC_VERSION_MAJOR] ?? 0,
    specErrata: data[SPEC_ID.OFF_SPEC_ERRATA] ?? 0,
    uintnSize: data[SPEC_ID.OFF_UINTN_SIZE] ?? 0,
  };
}

function startsWith(b: Uint8Array, sig: Uint8Array): boolean {
  if (b.length < sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[i] !== sig[i]) return false;
  return true;
}
export function isSpecId03(data: Uint8Array): boolean {
  return startsWith(data, SIGNATURE03_BYTES);
}
export function isSpecId00(data: Uint8Array): boolean {
  return startsWith(data, SIGNATURE00_BYTES);
}

/**
 * Decode Spec ID Event03 data. `data` may extend past the record's eventSize (see
 * specid-vendordata): `declaredSize` is the record's eventSize; the returned `consumed` is how
 * many bytes the structure really occupies (≥ declaredSize when vendorInfo runs past it).
 */
export function decodeSpecIdEvent03(
  data: Uint8Array,
  limits: ParseLimits,
  base: number,
): { spec: SpecIdEvent03; consumed: number } {
  const fail = (msg: string, at: number): never => {
    throw new EventLogParseError(`Spec ID Event03: ${msg}`, base + at, 0);
  };
  if (data.length < SPEC_ID.FIXED03_SIZE) fail(`needs ${SPEC_ID.FIXED03_SIZE} bytes, have ${data.length}`, 0);
  const n = u32le(data, SPEC_ID.OFF_NUMBER_OF_ALGORITHMS);
  if (n === 0 || n > limits.maxDigestsPerRecord) fail(`numberOfAlgorithms ${n} outside 1..${limits.maxDigestsPerRecord}`, SPEC_ID.OFF_NUMBER_OF_ALGORITHMS);
  let off = SPEC_ID.FIXED03_SIZE;
  if (n * 4 > data.length - off) fail(`digestSizes[${n}] past the end`, off);
  const algorithms: AlgorithmSize[] = [];
  for (let i = 0; i < n; i++) {
    const algorithmId = u16le(data, off);
    const digestSize = u16le(data, off + 2);
    if (digestSize === 0 || digestSize > limits.maxDigestSize) fail(`digestSize ${digestSize} outside 1..${limits.maxDigestSize}`, off + 2);
    const known = algById(algorithmId);
    if (known && known.size !== digestSize) fail(`algorithm 0x${algorithmId.toString(16).padStart(4, '0')} has size ${known.size}, header says ${digestSize}`, off + 2);
    if (algorithms.some((a) => a.algorithmId === algorithmId)) fail(`algorithm 0x${algorithmId.toString(16).padStart(4, '0')} listed twice`, off);
    algorithms.push({ algorithmId, digestSize });
    off += 4;
  }
  if (off + 1 > data.length) fail('vendorInfoSize past the end', off);
  const vsize = data[off] ?? 0;
  off += 1;
  if (vsize > data.length - off) fail(`vendorInfo (${vsize} bytes) past the end`, off - 1);
  const vendorInfo = data.slice(off, off + vsize);
  off += vsize;
  return {
    spec: {
      kind: 'spec-id-03',
      ...commonFields(data),
      algorithms,
      vendorInfo,
    },
    consumed: off,
  };
}

/** Decode Spec ID Event00 data (TCG 1.2 header; vendorInfo may hold a TXT container: TrenchBoot secure-kernel-loader `event_log.c`). */
export function decodeSpecIdEvent00(data: Uint8Array, base: number): SpecIdEvent00 {
  if (data.length < SPEC_ID.FIXED00_SIZE + 1) {
    throw new EventLogParseError(`Spec ID Event00 needs ${SPEC_ID.FIXED00_SIZE + 1} bytes, have ${data.length}`, base, 0);
  }
  const vsize = data[SPEC_ID.OFF00_VENDOR_INFO_SIZE] ?? 0;
  const vOff = SPEC_ID.OFF00_VENDOR_INFO;
  if (vsize > data.length - vOff) {
    throw new EventLogParseError(`Spec ID Event00 vendorInfo (${vsize} bytes) past the end`, base + SPEC_ID.FIXED00_SIZE, 0);
  }
  return {
    kind: 'spec-id-00',
    ...commonFields(data),
    vendorInfo: data.slice(vOff, vOff + vsize),
  };
}
