/**
 * Fixed TPM 1.2 streams: each supported command and each error path, to be replayed on the engine
 * and on swtpm and compared byte for byte. Names say which command and rule they exercise.
 */
import type { Locality } from '../../../src/tpm/engine.js';
import { TPM_ORD, TPM_TAG } from '../../../src/tpm12/index.js';
import { TPM_CAP, TPM_CAP_FLAG, TPM_CAP_PROP } from '../../../src/tpm12/index.js';
import {
  cat,
  cmd,
  extend,
  fill,
  getCapability,
  getRandom,
  getTestResult,
  pcrRead,
  pcrReset,
  rawCmd,
  sha1Complete,
  sha1CompleteExtend,
  sha1Start,
  sha1Update,
  u16,
  u32,
} from './commands.js';
import type { Step } from './differential.js';

export interface FixedStream {
  readonly name: string;
  /** swtpm started with startup-clear (engine `startup: true`) or not. */
  readonly startup: boolean;
  readonly steps: readonly Step[];
}

const c = (bytes: Uint8Array, locality: Locality = 0): Step => ({ kind: 'cmd', locality, bytes });
const rnd = (bytes: Uint8Array, locality: Locality = 0): Step => ({ kind: 'cmd', locality, bytes, compare: 'headerAndSize' });
const LOCALITIES: readonly Locality[] = [0, 1, 2, 3, 4];
const D = fill(20, 0x11);

import { drtmStream, physicalPresenceStream, preStartup, saveStateStream, startupVariants } from './streams-lifecycle.js';

const headerStream: Step[] = [
  c(rawCmd(TPM_TAG.RQU_COMMAND, 0x0f, TPM_ORD.PcrRead, u32(0))), // paramSize > length
  c(rawCmd(TPM_TAG.RQU_COMMAND, 0x0d, TPM_ORD.PcrRead, u32(0))), // paramSize < length
  c(rawCmd(TPM_TAG.RQU_COMMAND, 0xffffffff, TPM_ORD.PcrRead, u32(0))), // huge paramSize
  c(rawCmd(TPM_TAG.RQU_COMMAND, 0x00000000, TPM_ORD.PcrRead)),
  c(cmd(TPM_ORD.PcrRead, cat(u32(0), Uint8Array.of(0xff)))), // trailing byte
  c(cmd(TPM_ORD.PcrRead, Uint8Array.of(0, 0, 0))), // truncated parameter
  ...[TPM_TAG.RQU_AUTH1_COMMAND, TPM_TAG.RQU_AUTH2_COMMAND, TPM_TAG.RSP_COMMAND, 0x0000, 0xffff].map((tag) =>
    c(cmd(TPM_ORD.PcrRead, u32(0), tag)),
  ),
  // unknown ordinals keep an auth tag in the reply (C2→C5, C3→C6), others answer C4
  ...[TPM_TAG.RQU_COMMAND, TPM_TAG.RQU_AUTH1_COMMAND, TPM_TAG.RQU_AUTH2_COMMAND, TPM_TAG.RSP_AUTH1_COMMAND].map((tag) =>
    c(cmd(0x00000001, new Uint8Array(0), tag)),
  ),
  ...[0x00000000, 0x00000100, 0x00001000, 0x40000000, 0x4000000c, 0x80000000, 0xffffffff].map((o) => c(cmd(o))),
  c(cmd(0x00000001, fill(40, 0xab))),
  // TPM_Init as a wire command (libtpms without TPM_TEST): tag and size checks, then BAD_ORDINAL
  c(cmd(TPM_ORD.Init)),
  c(cmd(TPM_ORD.Init, new Uint8Array(0), TPM_TAG.RQU_AUTH1_COMMAND)),
  c(cmd(TPM_ORD.Init, new Uint8Array(0), TPM_TAG.RQU_AUTH2_COMMAND)),
  c(cmd(TPM_ORD.Init, Uint8Array.of(0))),
  c(cmd(TPM_ORD.Init, Uint8Array.of(0), TPM_TAG.RQU_AUTH1_COMMAND)),
  c(getTestResult()),
];

/** Every PCR and bad index at every locality, then resets (libtpms TPM_ExtendCommon,
 * TPM_Process_PcrReset, TPM_PCRAttributes_Init). */
const extendMatrix: Step[] = LOCALITIES.flatMap((loc): Step[] => [
  ...[...Array(24).keys(), 24, 0x00000100, 0xffffffff].map((p) => c(extend(p, fill(20, 0x10 + loc)), loc)),
  ...[...Array(24).keys(), 24, 0x80000000].map((p) => c(pcrRead(p), loc)),
]);

const SELECTIONS: ReadonlyArray<readonly [number, Uint8Array]> = [
  [3, Uint8Array.of(0, 0, 0x01)], // 16
  [3, Uint8Array.of(0, 0, 0x02)], // 17
  [3, Uint8Array.of(0, 0, 0x04)], // 18
  [3, Uint8Array.of(0, 0, 0x08)], // 19
  [3, Uint8Array.of(0, 0, 0x10)], // 20
  [3, Uint8Array.of(0, 0, 0x60)], // 21, 22
  [3, Uint8Array.of(0, 0, 0x80)], // 23
  [3, Uint8Array.of(0, 0, 0x81)],
  [3, Uint8Array.of(0, 0, 0x7e)], // 17–22
  [3, Uint8Array.of(0x01, 0, 0)], // 0: not resettable
  [3, Uint8Array.of(0xff, 0xff, 0xff)],
  [3, Uint8Array.of(0, 0, 0)], // empty selection
  [0, new Uint8Array(0)],
  [1, Uint8Array.of(0)],
  [1, Uint8Array.of(1)],
  [2, Uint8Array.of(0, 0x80)],
  [4, Uint8Array.of(0, 0, 1, 0)], // sizeOfSelect > 3
  [0xffff, new Uint8Array(0)],
  [3, Uint8Array.of(0)], // short
];
const resetMatrix: Step[] = [
  ...LOCALITIES.flatMap((loc): Step[] => SELECTIONS.map(([n, sel]) => c(pcrReset(n, sel), loc))),
  c(cmd(TPM_ORD.PCR_Reset, Uint8Array.of(0))),
  c(cmd(TPM_ORD.PCR_Reset, cat(u16(3), Uint8Array.of(0, 0, 1, 0)))), // trailing
  c(cmd(TPM_ORD.PCR_Reset, cat(u16(3), Uint8Array.of(0, 0, 1)), TPM_TAG.RQU_AUTH1_COMMAND)),
  ...[16, 17, 18, 19, 20, 21, 22, 23].map((p) => c(pcrRead(p))),
  // before any HASH_START, 17–22 reset to FF; afterwards to 00 (TOSPresent)
  { kind: 'drtm', data: new Uint8Array(0) },
  ...LOCALITIES.flatMap((loc): Step[] => SELECTIONS.slice(0, 9).map(([n, sel]) => c(pcrReset(n, sel), loc))),
  ...[16, 17, 18, 19, 20, 21, 22, 23].map((p) => c(pcrRead(p))),
  // PCR17 zero rule (docs/tpm-quirks.md#pcr-17-zero-rule): after the reset above PCR17 is 0
  c(extend(17, D), 2),
  c(extend(17, D), 3),
  c(extend(17, D), 4),
  c(extend(17, D), 2),
  c(pcrRead(17)),
  c(extend(0, D), 0),
  c(extend(0, D), 1),
  c(cmd(TPM_ORD.Extend, cat(u32(0), fill(19, 0)))),
  c(cmd(TPM_ORD.Extend, cat(u32(0), fill(21, 0)))),
  c(cmd(TPM_ORD.Extend, cat(u32(0), D), TPM_TAG.RQU_AUTH1_COMMAND)),
  c(cmd(TPM_ORD.Extend, cat(u32(24), D), TPM_TAG.RQU_AUTH2_COMMAND)),
];

const sha1Stream: Step[] = [
  c(sha1Start()),
  c(sha1Update(fill(64, 0x61))),
  c(sha1Complete(Uint8Array.of(0x61, 0x62, 0x63))),
  c(sha1Update(fill(64, 0))), // no thread
  c(sha1Complete(new Uint8Array(0))),
  c(sha1Start()),
  c(sha1Update(fill(63, 0))), // not a multiple of 64: SHA_ERROR, thread gone
  c(sha1Complete(new Uint8Array(0))),
  c(sha1Start()),
  c(sha1Update(fill(100, 0), 4096)), // announced more than sent: BAD_PARAM_SIZE, thread kept
  c(sha1Complete(new Uint8Array(0))),
  c(sha1Start()),
  c(sha1Update(fill(4032, 0x5a))), // exactly maxNumBytes
  c(sha1Update(new Uint8Array(0))),
  c(sha1Complete(fill(64, 0x5a))),
  c(sha1Start()),
  c(sha1Update(new Uint8Array(0), 0x00030000)), // above TPM_ALLOC_MAX: TPM_SIZE, thread kept
  c(sha1Complete(new Uint8Array(0))),
  c(sha1Start()),
  c(sha1Complete(fill(65, 0))), // > 64: SHA_ERROR, thread gone
  c(sha1Complete(new Uint8Array(0))),
  c(sha1Start()),
  c(cmd(TPM_ORD.SHA1Complete, cat(u32(64), fill(65, 0)))), // trailing: thread kept
  c(cmd(TPM_ORD.SHA1Complete, cat(u32(64), fill(64, 0)), TPM_TAG.RQU_AUTH1_COMMAND)),
  c(sha1Complete(new Uint8Array(0))),
  c(cmd(TPM_ORD.SHA1Start, Uint8Array.of(0))), // a bad SHA1Start still kills the old thread
  c(sha1Complete(new Uint8Array(0))),
  c(cmd(TPM_ORD.SHA1Start, new Uint8Array(0), TPM_TAG.RQU_AUTH1_COMMAND)),
  c(cmd(TPM_ORD.SHA1Complete, new Uint8Array(0))),
  // any other ordinal kills the thread (libtpms TPM_Check_SHA1Context), even unknown or malformed ones
  ...[pcrRead(0), getCapability(TPM_CAP.VERSION, new Uint8Array(0)), cmd(0x00000001), getTestResult(), cmd(TPM_ORD.Extend)].flatMap(
    (other): Step[] => [c(sha1Start()), c(sha1Update(fill(128, 1))), c(other), c(sha1Complete(new Uint8Array(0)))],
  ),
  // a header error does not reach the ordinal logic, so the thread survives
  c(sha1Start()),
  c(rawCmd(TPM_TAG.RQU_COMMAND, 11, TPM_ORD.PcrRead)),
  c(sha1Complete(new Uint8Array(0))),
  // the dynamic launch uses its own context
  c(sha1Start()),
  { kind: 'drtm', data: fill(100, 7) },
  c(sha1Complete(new Uint8Array(0))),
  // CompleteExtend: index, locality and PCR17 rules run after the thread is closed
  c(sha1Start()),
  c(sha1CompleteExtend(24, new Uint8Array(0))),
  c(sha1Complete(new Uint8Array(0))),
  c(sha1Start()),
  c(sha1CompleteExtend(17, new Uint8Array(0)), 0),
  c(sha1Start()),
  c(sha1CompleteExtend(17, Uint8Array.of(1, 2, 3)), 2),
  c(sha1Start()),
  c(sha1Update(fill(1024, 3)), 2),
  c(sha1CompleteExtend(18, fill(64, 9)), 2),
  c(sha1Start()),
  c(sha1CompleteExtend(10, fill(65, 0))),
  c(sha1Start()),
  c(cmd(TPM_ORD.SHA1CompleteExtend, u32(10))),
  c(sha1Complete(new Uint8Array(0))),
  c(cmd(TPM_ORD.SHA1CompleteExtend, cat(u32(10), u32(0)), TPM_TAG.RQU_AUTH1_COMMAND)),
  c(cmd(TPM_ORD.SHA1Complete)),
];

const capabilityStream: Step[] = [
  c(getTestResult()),
  c(getCapability(TPM_CAP.PROPERTY, u32(TPM_CAP_PROP.MANUFACTURER))), // allowed in limited mode
  c(getCapability(TPM_CAP.PROPERTY, u32(TPM_CAP_PROP.DURATION))),
  c(getCapability(TPM_CAP.PROPERTY, u32(TPM_CAP_PROP.TIS_TIMEOUT))),
  c(getCapability(TPM_CAP.MFR, u32(0x00000021))),
  c(getCapability(TPM_CAP.VERSION, new Uint8Array(0))),
  c(getCapability(TPM_CAP.VERSION_VAL, new Uint8Array(0))),
  c(getTestResult()),
  c(getCapability(TPM_CAP.PROPERTY, u32(TPM_CAP_PROP.PCR))), // runs the self-test first
  c(getTestResult()),
  ...Array.from({ length: 0x31 }, (_, i) => c(getCapability(TPM_CAP.PROPERTY, u32(0x100 + i)))),
  ...Array.from({ length: 0x21 }, (_, a) => [new Uint8Array(0), u16(0), u32(0), u32(1), cat(u32(1), Uint8Array.of(0))].map((s) => c(getCapability(a, s)))).flat(),
  // TPM_CAP_ORD for every ordinal up to 0x110 and the TSC range: checks LIBTPMS_ORDINALS against libtpms
  ...[...Array(0x111).keys(), 0x4000000a, 0x4000000b, 0x4000000c, 0x20001000, 0x80000014, 0xffffffff].map((o) =>
    c(getCapability(TPM_CAP.ORD, u32(o))),
  ),
  ...Array.from({ length: 12 }, (_, a) => c(getCapability(TPM_CAP.ALG, u32(a)))),
  ...Array.from({ length: 12 }, (_, a) => c(getCapability(TPM_CAP.TRANS_ALG, u32(a)))),
  ...Array.from({ length: 12 }, (_, a) => c(getCapability(TPM_CAP.AUTH_ENCRYPT, u32(a)))),
  ...Array.from({ length: 10 }, (_, a) => c(getCapability(TPM_CAP.PID, u16(a)))),
  ...Array.from({ length: 8 }, (_, a) => c(getCapability(TPM_CAP.TRANS_ES, u16(a)))),
  ...Array.from({ length: 11 }, (_, a) => c(getCapability(TPM_CAP.HANDLE, u32(a)))),
  ...[TPM_CAP_FLAG.PERMANENT, TPM_CAP_FLAG.VOLATILE, 0x10a].map((f) => c(getCapability(TPM_CAP.FLAG, u32(f)))),
  ...['01020003', '01010004', '01010000', '02010000', '01030000', '0102', '0102000300', ''].map((h) =>
    c(getCapability(TPM_CAP.SELECT_SIZE, Uint8Array.from(Buffer.from(h, 'hex')))),
  ),
  ...[
    '00000001000300010000000c000008000000000200000000', // RSA, 2048, 2 primes, no exponent: fits
    '000000000003000100000000', // algorithm 0: loads, FALSE
    '000000060003000100000000', // AES128: TPM_BAD_KEY_PROPERTY
    '000000010003000100000000', // RSA with empty parms: short
    '00000001000300010000000c000008000000000200000001', // exponent size past the end
    '000000010003000100030000', // parmSize above TPM_ALLOC_MAX
    '00000001000300010000000c0000080000000002000000007a7a', // trailing bytes ignored
    '',
  ].map((h) => c(getCapability(TPM_CAP.CHECK_LOADED, Uint8Array.from(Buffer.from(h, 'hex'))))),
  ...[0x00000000, 0x10000001, 0x1000f000, 0xffffffff].map((i) => c(getCapability(TPM_CAP.NV_INDEX, u32(i)))),
  ...[0x00000000, 0x40000000, 0x01000000].map((h) => c(getCapability(TPM_CAP.KEY_STATUS, u32(h)))),
  // libtpms answers swtpm's process id here; the engine has none: compare header and size only
  rnd(getCapability(TPM_CAP.MFR, u32(0x00000020))),
  c(getCapability(TPM_CAP.MFR, Uint8Array.of(0, 0, 0))),
  c(getCapability(TPM_CAP.MFR, cat(u32(0x00000020), Uint8Array.of(0)))),
  c(cmd(TPM_ORD.GetCapability, cat(u32(TPM_CAP.PROPERTY), u32(0x00030000)))), // TPM_SIZE
  c(cmd(TPM_ORD.GetCapability, cat(u32(TPM_CAP.PROPERTY), u32(4), Uint8Array.of(0, 0)))),
  c(cmd(TPM_ORD.GetCapability, u32(TPM_CAP.PROPERTY))),
  c(cmd(TPM_ORD.GetCapability, cat(u32(TPM_CAP.PROPERTY), u32(4), u32(0x101), Uint8Array.of(0)))),
  c(cmd(TPM_ORD.GetCapability, cat(u32(TPM_CAP.PROPERTY), u32(4), u32(0x101)), TPM_TAG.RQU_AUTH1_COMMAND)),
  { kind: 'drtm', data: new Uint8Array(0) },
  c(getCapability(TPM_CAP.FLAG, u32(TPM_CAP_FLAG.PERMANENT))), // tpmEstablished now set
];

const randomAndSelfTest: Step[] = [
  c(getTestResult()),
  c(cmd(TPM_ORD.SelfTestFull)),
  c(getTestResult()),
  c(cmd(TPM_ORD.ContinueSelfTest)),
  c(cmd(TPM_ORD.SelfTestFull, Uint8Array.of(0))),
  c(cmd(TPM_ORD.ContinueSelfTest, new Uint8Array(0), TPM_TAG.RQU_AUTH1_COMMAND)),
  c(cmd(TPM_ORD.GetTestResult, Uint8Array.of(0))),
  c(cmd(TPM_ORD.GetTestResult, new Uint8Array(0), TPM_TAG.RQU_AUTH2_COMMAND)),
  ...[0, 1, 20, 4081, 4082, 4083, 5000, 0xffffffff].map((n) => rnd(getRandom(n))),
  c(cmd(TPM_ORD.GetRandom, cat(u32(4), Uint8Array.of(0)))),
  c(cmd(TPM_ORD.GetRandom, Uint8Array.of(0))),
  c(cmd(TPM_ORD.GetRandom, u32(4), TPM_TAG.RQU_AUTH1_COMMAND)),
];

export const FIXED_STREAMS: readonly FixedStream[] = [
  { name: 'header codec (TPM Main Part 2 §6 TPM_TAG): malformed headers, tags, unknown ordinals', startup: true, steps: headerStream },
  { name: 'before TPM_Startup, failure mode, second Startup (libtpms TPM_CheckState)', startup: false, steps: preStartup },
  { name: 'TPM_Startup variants after TPM_Init (Part 3 §3.2)', startup: true, steps: startupVariants },
  { name: 'TPM_SaveState and TPM_Startup(ST_STATE) (Part 3 §3.2, §3.3)', startup: true, steps: saveStateStream },
  { name: 'TPM_Extend and TPM_PcrRead at every locality (Part 3 §16.1, §16.2; PC Client pcrExtendLocal)', startup: true, steps: extendMatrix },
  { name: 'TPM_PCR_Reset matrix, TOSPresent, PCR17 zero rule (Part 3 §16.4; libtpms TPM_Process_PcrReset)', startup: true, steps: resetMatrix },
  { name: 'SHA-1 thread (Part 3 §13.1–§13.4; libtpms TPM_Check_SHA1Context)', startup: true, steps: sha1Stream },
  { name: 'HASH_START/DATA/END, tpmEstablished (libtpms tpm_tpm12_tis.c)', startup: true, steps: drtmStream },
  { name: 'TPM_GetCapability areas, subcaps and limited mode (Part 3 §7.1, Part 2 §21)', startup: true, steps: capabilityStream },
  { name: 'TPM_GetRandom and self-test commands', startup: true, steps: randomAndSelfTest },
  { name: 'TSC_PhysicalPresence flags and locks (Part 3 §6.2, Part 2 §4.9)', startup: true, steps: physicalPresenceStream },
];
