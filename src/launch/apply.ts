/**
 * Applying a launch manifest to a session, in the seed's order, with the session's own measurement
 * code (src/measure): the same log and extend rules (`xen`/`strict`) as the measurement route, so a
 * prediction is exactly what a live session given the same steps shows. Runs inside the session's
 * turn with every part already received (src/launch/parts.ts); a throw rolls the session back.
 */
import { toHex, u32le } from '../bytes/index.js';
import { MultiHasher, mustAlg, type BankName } from '../hash/index.js';
import { EV, SLAUNCH_EVTYPE, TXT_EVTYPE } from '../eventlog/constants.js';
import { EventLogParseError } from '../eventlog/errors.js';
import { parseEventLog } from '../eventlog/parse.js';
import { TxtContainerLog } from '../eventlog/txt-container.js';
import type { Tcg2Log } from '../eventlog/tcg2.js';
import { DomainError } from '../errors.js';
import { measureDigests, measurementBanks, pcrValues, startMeasurement, type MeasureResult } from '../measure/measure.js';
import { dynamicLaunch, DRTM_PCR } from '../measure/launch.js';
import { tpm12Commands, tpm2Commands } from '../drivers/index.js';
import { rcName } from '../tpm/rc-name.js';
import { DYNAMIC_LAUNCH_IGNORED } from '../tis/index.js';
import type { Session } from '../sessions/session.js';
import { partSlots, rule, SINIT_PCRS, type LaunchManifest, type SinitEvent } from './manifest.js';
import type { PartData } from './parts.js';

/** Locality of the early MBI measurement and of every later Xen measurement (Xen slaunch.h DRTM_LOC). */
export const DRTM_LOC = 2;
/** DRTM_DATA_PCR in Xen's slaunch.h: the MBI and the SLRT go here. */
export const DRTM_DATA_PCR = 18;
/**
 * Locality SINIT's own extends come from: the ACM runs at locality 3 (Intel TXT Software Development
 * Guide, "Measured Launch Environment": SINIT uses locality 3). libtpms lets locality 3 extend
 * PCR 17–20 in both families (TPM_PCRAttributes_Init pcrExtendLocal; PlatformPcr.c extendLocality).
 */
export const SINIT_LOCALITY = 3;
/** evt_info is a char[32] (TrenchBoot SLRT spec "DRTM Policy Entry"; Xen measures strnlen(evt_info, 32) bytes). */
export const EVT_INFO_MAX = 32;
/** SLR_ENTRY_INTEL_INFO tag (Xen slr-table.h). */
export const SLR_ENTRY_INTEL_INFO = 4;
/**
 * INTEL_INFO layouts by their `size` field and the address bytes Xen zeroes in its copy before
 * hashing it (slaunch_measure_slrt): Xen v3 / Linux (560 bytes: boot_params_base u64 and txt_heap
 * u64 at 8–23) and the GRUB aem-qubes-4.2.3 / TrenchBoot Xen 2024 layout without boot_params_base
 * (552 bytes: txt_heap at 8–15).
 */
export const INTEL_INFO_LAYOUTS: Record<number, { zero: [number, number]; name: string }> = {
  560: { zero: [8, 24], name: 'Xen v3 / Linux (boot_params_base and txt_heap zeroed)' },
  552: { zero: [8, 16], name: 'GRUB 2.3 branch / TrenchBoot Xen 2024 (txt_heap zeroed)' },
};

export type StepKind = 'drtm' | 'sinit-event' | 'mbi' | 'slrt' | 'entry';

export interface LaunchStep {
  step: StepKind;
  /** The manifest field the step comes from. */
  field: string;
  part?: string;
  skipped?: boolean;
  pcr?: number;
  locality?: number;
  eventType?: number;
  size?: number;
  /** Digests written to the log entry, per bank. */
  digests?: Record<string, string>;
  /** What the PCR was extended with, per bank (absent when nothing was extended). */
  extendedDigests?: Record<string, string>;
  /** The PCR's value after the step, per bank. */
  pcrValues?: Record<string, string>;
  logged?: boolean;
  extended?: boolean;
  /** Event data, base64. */
  eventData?: string;
  tpmReturnCode?: number;
  notes: string[];
}

export interface LaunchResult {
  /** The part chosen for each manifest field (variants). */
  choice: Record<string, string>;
  pcrs: Record<string, Record<string, string>>;
  steps: LaunchStep[];
  log: { format: 'txt-container' | 'tcg2-agile'; bytes: Uint8Array };
  pointer?: { physicalAddress: string; allocatedEventContainerSize: number; firstRecordOffset: number; nextRecordOffset: number; bytes: Uint8Array };
}


function fromMeasure(step: StepKind, field: string, part: string | undefined, r: MeasureResult, eventData: Uint8Array, notes: string[]): LaunchStep {
  return {
    step,
    field,
    ...(part !== undefined ? { part } : {}),
    pcr: r.pcr,
    locality: r.locality,
    eventType: r.eventType,
    size: r.size,
    digests: r.digests,
    ...(r.extended ? { extendedDigests: r.hashing === 'tpm' ? r.dataDigests : r.digests } : {}),
    pcrValues: r.pcrValue,
    logged: r.logged,
    extended: r.extended,
    eventData: Buffer.from(eventData).toString('base64'),
    tpmReturnCode: r.tpmReturnCode,
    notes: [...notes, ...r.notes],
  };
}

function hexDigests(d: Partial<Record<BankName, Uint8Array>>, banks: readonly BankName[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const b of banks) {
    const v = d[b];
    if (v) out[b] = toHex(v);
  }
  return out;
}

function hostDigests(banks: readonly BankName[], data: Uint8Array): Map<BankName, Uint8Array> {
  const h = new MultiHasher(banks);
  h.update(data);
  return h.digests();
}

/** Append a SINIT event to the log with the session's log rules (strict: nothing after the first miss). */
function logSinitEvent(session: Session, ev: SinitEvent, banks: readonly BankName[], notes: string[]): boolean {
  const strict = session.options.compat === 'strict';
  if (strict && session.logFull) {
    notes.push('the log is full: strict mode logs nothing after the first event that did not fit');
    return false;
  }
  const log = session.log;
  const entry =
    log instanceof TxtContainerLog
      ? log.append({ pcr: ev.pcr, type: ev.type, digest: ev.digests.sha1 as Uint8Array, data: ev.data })
      : (log as Tcg2Log).append({ pcr: ev.pcr, type: ev.type, digests: Object.fromEntries(banks.map((b) => [b, ev.digests[b] as Uint8Array])), data: ev.data });
  if (entry === null) {
    if (strict) session.logFull = true;
    notes.push('the event did not fit the log');
  }
  return entry !== null;
}

function checkSinitDigests(ev: SinitEvent, banks: readonly BankName[], field: string): void {
  for (const b of banks) {
    const d = ev.digests[b];
    if (!d) throw new DomainError('invalid-request', `${field}.digests.${b} is missing: every SINIT event needs a digest for each bank of the session (${banks.join(', ')})`, { field: `${field}.digests.${b}` });
    if (d.length !== mustAlg(b).size) throw new DomainError('invalid-request', `${field}.digests.${b} must be ${mustAlg(b).size} bytes, got ${d.length}`, { field: `${field}.digests.${b}` });
  }
}

/**
 * SINIT's events (TXT with the ACM's own measurements, copied from a real log): the first event
 * that extends is the dynamic launch itself (its digest is what HASH_END extended into PCR 17 after
 * resetting PCR 17–22 to zero), the others are extended at locality 3.
 */
function applySinitEvents(session: Session, events: { ev: SinitEvent; field: string }[], notes0: string[]): LaunchStep[] {
  const banks = measurementBanks(session);
  const strict = session.options.compat === 'strict';
  const steps: LaunchStep[] = [];
  let launched = false;
  for (const { ev, field } of events) {
    const notes = [...(steps.length === 0 ? notes0 : [])];
    const noAction = ev.type === EV.NO_ACTION;
    checkSinitDigests(ev, banks, field);
    if (!noAction && !launched) {
      if (ev.pcr !== DRTM_PCR) throw rule(`${field}.pcr`, `the first SINIT event that extends is the dynamic launch's own extend of PCR 17 (HASH_START/HASH_END), got PCR ${ev.pcr}`);
      const rc = session.tis.dynamicLaunchDigests(Object.fromEntries(banks.map((b) => [b, ev.digests[b] as Uint8Array])));
      if (rc === DYNAMIC_LAUNCH_IGNORED) throw new DomainError('locality-busy', `locality ${String(session.tis.state().activeLocality)} holds the TPM, so the interface ignores the launch cycles; relinquish it first`);
      if (rc !== 0) throw new DomainError('tpm-refused', `the dynamic launch was refused: ${rcName(session.family, rc)}`, { tpmReturnCode: rc, tpmReturnCodeName: rcName(session.family, rc) });
      launched = true;
      notes.push('the dynamic launch: PCR 17–22 reset to zero, PCR 17 extended with this digest at locality 4');
      const logged = logSinitEvent(session, ev, banks, notes);
      steps.push(sinitStep(session, field, ev, banks, 4, logged, true, 0, notes));
      continue;
    }
    if (noAction) {
      notes.push('EV_NO_ACTION: logged, not extended (TCG PC Client Platform Firmware Profile: EV_NO_ACTION events are never extended)');
      const logged = launched ? logSinitEvent(session, ev, banks, notes) : false;
      if (!launched) notes.push('before the dynamic launch: not logged either');
      steps.push(sinitStep(session, field, ev, banks, SINIT_LOCALITY, logged, false, 0, notes));
      continue;
    }
    if (!SINIT_PCRS.includes(ev.pcr)) throw rule(`${field}.pcr`, `SINIT runs at locality 3, which may extend PCR ${SINIT_PCRS.join(', ')} only; got PCR ${ev.pcr}`);
    const cmd =
      session.family === '1.2'
        ? tpm12Commands.extend12(ev.pcr, ev.digests.sha1 as Uint8Array)
        : tpm2Commands.pcrExtend(ev.pcr, banks.map((b) => ({ bank: b, digest: ev.digests[b] as Uint8Array })));
    const rc = tpm12Commands.responseCode(session.engine.execute(cmd, SINIT_LOCALITY));
    if (rc !== 0 && strict) throw new DomainError('tpm-refused', `${field}: extending PCR ${ev.pcr} at locality ${SINIT_LOCALITY} was refused: ${rcName(session.family, rc)}`, { tpmReturnCode: rc, tpmReturnCodeName: rcName(session.family, rc) });
    if (rc !== 0) notes.push(`the TPM refused the extend (${rcName(session.family, rc)}); the event is logged anyway`);
    const logged = logSinitEvent(session, ev, banks, notes);
    steps.push(sinitStep(session, field, ev, banks, SINIT_LOCALITY, logged, rc === 0, rc, notes));
  }
  if (!launched) throw rule('sinit', 'no SINIT event extends anything: the first extending event must be the dynamic launch on PCR 17');
  return steps;
}

function sinitStep(session: Session, field: string, ev: SinitEvent, banks: readonly BankName[], locality: number, logged: boolean, extended: boolean, rc: number, notes: string[]): LaunchStep {
  const digests = hexDigests(ev.digests, banks);
  return {
    step: 'sinit-event',
    field,
    pcr: ev.pcr,
    locality,
    eventType: ev.type,
    digests,
    ...(extended ? { extendedDigests: digests } : {}),
    pcrValues: pcrValues(session, ev.pcr),
    logged,
    extended,
    eventData: Buffer.from(ev.data).toString('base64'),
    tpmReturnCode: rc,
    notes,
  };
}

/** The records of a real log that SINIT wrote: everything before the first Secure Launch (0x502) event. */
export function sinitEventsFromLog(bytes: Uint8Array, field: string): { events: { ev: SinitEvent; field: string }[]; notes: string[] } {
  let parsed;
  try {
    parsed = parseEventLog(bytes);
  } catch (e) {
    if (e instanceof EventLogParseError) throw new DomainError('event-log-invalid', `${field}: ${e.message}`, { field });
    throw e;
  }
  const events: { ev: SinitEvent; field: string }[] = [];
  let ignored = 0;
  for (const r of parsed.events) {
    if (r.type === SLAUNCH_EVTYPE.SLAUNCH) break;
    // The Spec ID header record and records outside the dynamic PCRs are not SINIT's.
    if (r.pcr < 17 || r.pcr > 22) {
      ignored++;
      continue;
    }
    const digests: Partial<Record<BankName, Uint8Array>> = {};
    for (const d of r.digests) if (d.bank) digests[d.bank] = d.digest;
    events.push({ ev: { pcr: r.pcr, type: r.type, digests, data: r.data }, field: `${field} record #${r.index}` });
  }
  if (events.length === 0) throw rule(field, 'the log has no record on PCR 17–22 before its first 0x502 event');
  const notes = [`${parsed.format} log: ${events.length} SINIT record(s) before the first 0x502 event`];
  if (ignored > 0) notes.push(`${ignored} record(s) outside PCR 17–22 (e.g. the Spec ID header) ignored`);
  return { events, notes };
}

function must(parts: ReadonlyMap<string, PartData>, name: string): PartData {
  const p = parts.get(name);
  if (!p) throw new Error(`part ${name} was not collected`);
  return p;
}

/** The first `total_size` bytes of the MBI, with the seed's rule checked (`tpm_extend_mbi`). */
export function mbiBytes(p: PartData): { bytes: Uint8Array; total: number } {
  const b = p.bytes ?? new Uint8Array(0);
  if (p.size < 4) throw rule('mbi.part', `the MBI starts with its u32 total_size; part ${p.name} has ${p.size} bytes`);
  const total = u32le(b, 0);
  if (total < 8) throw rule('mbi.part', `total_size ${total} is below 8, the size of the MBI's fixed header (total_size, reserved)`);
  if (total > p.size) throw rule('mbi.part', `total_size ${total} is larger than part ${p.name} (${p.size} bytes): tpm_extend_mbi would hash memory past the MBI`);
  return { bytes: b.subarray(0, total), total };
}

/** The INTEL_INFO copy Xen hashes: the entry with its address fields zeroed (`slaunch_measure_slrt`). */
export function intelInfoCopy(p: PartData): { bytes: Uint8Array; layout: string } {
  const b = p.bytes ?? new Uint8Array(0);
  if (!p.whole || b.length < 8) throw rule('slrt.intelInfo.part', `an SLRT entry starts with tag u32 and size u32; part ${p.name} has ${p.size} bytes`);
  const tag = u32le(b, 0);
  const size = u32le(b, 4);
  if (tag !== SLR_ENTRY_INTEL_INFO) throw rule('slrt.intelInfo.part', `tag ${tag} is not SLR_ENTRY_INTEL_INFO (4)`);
  const layout = INTEL_INFO_LAYOUTS[size];
  if (!layout) throw rule('slrt.intelInfo.part', `size ${size} is neither 560 (Xen v3 / Linux layout) nor 552 (GRUB 2.3 branch / TrenchBoot Xen 2024 layout)`);
  if (b.length !== size) throw rule('slrt.intelInfo.part', `the entry's size field says ${size} bytes but part ${p.name} has ${b.length}`);
  const copy = b.slice();
  copy.fill(0, layout.zero[0], layout.zero[1]);
  return { bytes: copy, layout: layout.name };
}

/** evt_info as Xen logs it: up to the first NUL, at most 32 bytes. */
export function evtInfoData(raw: Uint8Array): { data: Uint8Array; notes: string[] } {
  const notes: string[] = [];
  const nul = raw.indexOf(0);
  let data = nul >= 0 ? raw.subarray(0, nul) : raw;
  if (nul >= 0) notes.push(`evtInfo cut at its NUL (byte ${nul})`);
  if (data.length > EVT_INFO_MAX) {
    notes.push(`evtInfo of ${data.length} bytes truncated to ${EVT_INFO_MAX}: evt_info is a char[32], logged as strnlen(evt_info, 32) bytes without a NUL`);
    data = data.subarray(0, EVT_INFO_MAX);
  }
  return { data: data.slice(), notes };
}

/** Apply one combination (`choice`: one part name per slot, in partSlots order) to `session`. */
export async function applyLaunch(session: Session, manifest: LaunchManifest, parts: ReadonlyMap<string, PartData>, choice: readonly string[]): Promise<LaunchResult> {
  const slots = partSlots(manifest);
  const chosen = new Map<string, string>();
  slots.forEach((s, i) => chosen.set(s.field, choice[i] as string));
  const pick = (field: string): PartData => must(parts, chosen.get(field) as string);
  const steps: LaunchStep[] = [];
  const banks = measurementBanks(session);

  // 0. The dynamic launch.
  const s = manifest.sinit;
  if (s.kind === 'part') {
    const p = pick('sinit.part');
    const data = p.bytes ?? new Uint8Array(0);
    const { rc, logged } = dynamicLaunch(session, data, true);
    if (rc !== 0) throw new DomainError('tpm-refused', `the dynamic launch was refused: ${rcName(session.family, rc)}`, { tpmReturnCode: rc, tpmReturnCodeName: rcName(session.family, rc) });
    const logBanks = session.log instanceof TxtContainerLog ? ['sha1' as BankName] : banks;
    const d = hexDigests(Object.fromEntries(hostDigests(banks, data)), banks);
    steps.push({
      step: 'drtm',
      field: 'sinit.part',
      part: p.name,
      pcr: DRTM_PCR,
      locality: 4,
      eventType: TXT_EVTYPE.HASH_START,
      size: p.size,
      digests: Object.fromEntries(Object.entries(d).filter(([b]) => logBanks.includes(b as BankName))),
      extendedDigests: d,
      pcrValues: pcrValues(session, DRTM_PCR),
      logged,
      extended: true,
      eventData: '',
      tpmReturnCode: 0,
      notes: ['HASH_START/HASH_DATA/HASH_END at locality 4: PCR 17–22 reset to zero, PCR 17 extended with the hash of the data; one synthetic 0x402 event logged in place of SINIT’s own'],
    });
  } else if (s.kind === 'events') {
    steps.push(...applySinitEvents(session, s.events.map((ev, i) => ({ ev, field: `sinit.events[${i}]` })), []));
  } else {
    const p = pick('sinit.fromLog');
    const { events, notes } = sinitEventsFromLog(p.bytes ?? new Uint8Array(0), 'sinit.fromLog');
    const applied = applySinitEvents(session, events, notes);
    for (const st of applied) st.part = p.name;
    steps.push(...applied);
  }

  // 1. The MBI through the TPM (tpm_extend_mbi: the first total_size bytes, PCR 18, locality 2, no event data).
  {
    const p = pick('mbi.part');
    const { bytes, total } = mbiBytes(p);
    const sink = startMeasurement(session, { pcr: DRTM_DATA_PCR, locality: DRTM_LOC, eventType: SLAUNCH_EVTYPE.SLAUNCH, eventData: new Uint8Array(0), hashing: 'tpm' });
    try {
      await sink.update(bytes);
      const r = await sink.finish();
      const notes = [`the TPM hashed the first ${total} bytes (total_size) of ${p.size}`];
      steps.push(fromMeasure('mbi', 'mbi.part', p.name, r, new Uint8Array(0), notes));
    } catch (e) {
      sink.abort();
      throw e;
    }
  }

  // 2. The SLRT INTEL_INFO entry, addresses zeroed (slaunch_measure_slrt).
  if (manifest.intelInfo) {
    const p = pick('slrt.intelInfo.part');
    const { bytes, layout } = intelInfoCopy(p);
    const r = measureDigests(session, { pcr: DRTM_DATA_PCR, locality: DRTM_LOC, eventType: SLAUNCH_EVTYPE.SLAUNCH, eventData: new Uint8Array(0), hashing: 'host' }, bytes.length, hostDigests(banks, bytes));
    steps.push(fromMeasure('slrt', 'slrt.intelInfo.part', p.name, r, new Uint8Array(0), [`INTEL_INFO layout: ${layout}`]));
  } else {
    steps.push({ step: 'slrt', field: 'slrt.intelInfo.part', skipped: true, notes: ['no INTEL_INFO entry given: skipped (Xen panics in slaunch_measure_slrt without one)'] });
  }

  // 3. The policy entries from index 2 on, in policy order (slaunch_process_drtm_policy).
  manifest.entries.forEach((e, i) => {
    const field = `entries[${i}].part`;
    const p = pick(field);
    if (e.entityType === 'unused') {
      steps.push({ step: 'entry', field, part: p.name, skipped: true, notes: ['entity type unused: Xen skips SLR_ET_UNUSED entries'] });
      return;
    }
    const { data, notes } = evtInfoData(e.evtInfo);
    const r = measureDigests(session, { pcr: e.pcr, locality: DRTM_LOC, eventType: SLAUNCH_EVTYPE.SLAUNCH, eventData: data, hashing: 'host' }, p.size, p.digests ?? new Map());
    steps.push(fromMeasure('entry', field, p.name, r, data, notes));
  });

  const pcrs: Record<string, Record<string, string>> = {};
  for (const [bank, values] of Object.entries(session.engine.pcrs())) {
    if (values) pcrs[bank] = { '17': toHex(values[17] as Uint8Array), '18': toHex(values[18] as Uint8Array) };
  }
  const log = session.log;
  const result: LaunchResult = {
    choice: Object.fromEntries(chosen),
    pcrs,
    steps,
    log: log instanceof TxtContainerLog ? { format: 'txt-container', bytes: log.bytes() } : { format: 'tcg2-agile', bytes: log.bytes() },
  };
  if (!(log instanceof TxtContainerLog)) {
    const p = log.pointer2_1();
    result.pointer = { physicalAddress: p.physicalAddress.toString(), allocatedEventContainerSize: p.allocatedEventContainerSize, firstRecordOffset: p.firstRecordOffset, nextRecordOffset: p.nextRecordOffset, bytes: p.bytes };
  }
  return result;
}
