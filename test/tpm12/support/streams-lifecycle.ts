/**
 * Fixed TPM 1.2 lifecycle streams (TPM Main Part 3 §3; libtpms TPM_CheckState, TPM12_IO_Hash_*): before Startup, Startup variants, SaveState,
 * dynamic launch and tpmEstablished. Replayed on the engine and on swtpm, compared byte for byte.
 */
import type { Locality } from '../../../src/tpm/engine.js';
import { TPM_ORD, TPM_ST, TPM_TAG } from '../../../src/tpm12/index.js';
import { TPM_CAP, TPM_CAP_FLAG, TPM_CAP_PROP } from '../../../src/tpm12/index.js';
import {
  cmd,
  extend,
  fill,
  getCapability,
  getRandom,
  getTestResult,
  pcrRead,
  pcrReset,
  sha1Complete,
  sha1CompleteExtend,
  sha1Start,
  sha1Update,
  startup,
  u16,
  u32,
} from './commands.js';
import type { Step } from './differential.js';

const c = (bytes: Uint8Array, locality: Locality = 0): Step => ({ kind: 'cmd', locality, bytes });
const LOCALITIES: readonly Locality[] = [0, 1, 2, 3, 4];
const D = fill(20, 0x11);

export const preStartup: Step[] = [
  c(pcrRead(17)),
  c(extend(0, D)),
  c(pcrReset(3, Uint8Array.of(0, 0, 1))),
  c(getTestResult()),
  c(cmd(TPM_ORD.SelfTestFull)),
  c(cmd(TPM_ORD.ContinueSelfTest)),
  c(getRandom(4)),
  c(getCapability(TPM_CAP.VERSION, new Uint8Array(0))),
  c(getCapability(TPM_CAP.PROPERTY, u32(TPM_CAP_PROP.MANUFACTURER))),
  c(sha1Start()),
  c(sha1Update(fill(64, 1))),
  c(sha1Complete(new Uint8Array(0))),
  c(sha1CompleteExtend(0, new Uint8Array(0))),
  c(cmd(TPM_ORD.SaveState)),
  c(cmd(TPM_ORD.TSC_ResetEstablishmentBit), 3),
  c(cmd(0x00000001)),
  c(cmd(TPM_ORD.PcrRead, Uint8Array.of(0, 0, 0))), // parse error comes before the post-init check
  c(cmd(TPM_ORD.PcrRead, u32(0), TPM_TAG.RQU_AUTH1_COMMAND)), // post-init check comes before the tag check
  { kind: 'getEstablished' },
  { kind: 'resetEstablished', locality: 4 }, // allowed before Startup
  { kind: 'hashEnd' }, // no context: TPM_SHA_THREAD and failure mode
  c(startup(TPM_ST.CLEAR)), // failure mode: TPM_FAILEDSELFTEST, but leaves post-init
  c(getTestResult()),
  c(startup(TPM_ST.CLEAR)),
  c(pcrRead(0)),
  c(getCapability(TPM_CAP.VERSION_VAL, new Uint8Array(0))),
  c(getCapability(TPM_CAP.PROPERTY, u32(TPM_CAP_PROP.PCR))),
  { kind: 'init' },
  c(startup(TPM_ST.CLEAR)),
  c(getTestResult()),
  c(startup(TPM_ST.CLEAR)), // second Startup
  c(pcrRead(17)),
];

/** Startup variants, each after TPM_Init (TPM Main Part 3 §3.2). */
export const startupVariants: Step[] = [
  ...[
    startup(0x0000),
    startup(0x0004),
    startup(0xffff),
    cmd(TPM_ORD.Startup, u16(TPM_ST.CLEAR), TPM_TAG.RQU_AUTH1_COMMAND),
    cmd(TPM_ORD.Startup, Uint8Array.of(0, 1, 0)),
    cmd(TPM_ORD.Startup, Uint8Array.of(0)),
    cmd(TPM_ORD.Startup),
    startup(TPM_ST.STATE), // no saved state: failure mode
    startup(TPM_ST.DEACTIVATED),
    startup(TPM_ST.CLEAR),
  ].flatMap((s): Step[] => [
    { kind: 'init' },
    c(getTestResult()),
    c(s),
    c(getTestResult()),
    c(pcrRead(0)),
    c(startup(TPM_ST.CLEAR)),
    c(extend(0, D)),
    c(getCapability(TPM_CAP.FLAG, u32(TPM_CAP_FLAG.VOLATILE))),
  ]),
];

export const saveStateStream: Step[] = [
  c(extend(0, D)),
  c(extend(16, D)),
  c(extend(23, D)),
  c(cmd(TPM_ORD.SaveState)),
  { kind: 'init' },
  c(startup(TPM_ST.STATE)),
  ...[0, 16, 17, 23].map((p) => c(pcrRead(p))),
  c(getTestResult()),
  // any other command invalidates the saved state
  c(cmd(TPM_ORD.SaveState)),
  c(pcrRead(0)),
  { kind: 'init' },
  c(startup(TPM_ST.STATE)),
  { kind: 'init' },
  c(startup(TPM_ST.CLEAR)),
  // but a command before Startup after TPM_Init does not
  c(extend(1, D)),
  c(cmd(TPM_ORD.SaveState)),
  { kind: 'init' },
  c(pcrRead(1)),
  c(startup(TPM_ST.STATE)),
  c(pcrRead(1)),
  // TPM_Init sent as a wire command (BAD_ORDINAL) does not invalidate it either
  c(cmd(TPM_ORD.SaveState)),
  c(cmd(TPM_ORD.Init)),
  { kind: 'init' },
  c(startup(TPM_ST.STATE)),
  // Startup(ST_CLEAR) deletes it too
  c(cmd(TPM_ORD.SaveState)),
  { kind: 'init' },
  c(startup(TPM_ST.CLEAR)),
  { kind: 'init' },
  c(startup(TPM_ST.STATE)),
  { kind: 'init' },
  c(startup(TPM_ST.CLEAR)),
  // SaveState twice, deactivated flag is saved
  c(cmd(TPM_ORD.SaveState)),
  c(cmd(TPM_ORD.SaveState)),
  c(cmd(TPM_ORD.SaveState, Uint8Array.of(0))),
  c(cmd(TPM_ORD.SaveState, new Uint8Array(0), TPM_TAG.RQU_AUTH2_COMMAND)),
  { kind: 'init' },
  c(startup(TPM_ST.DEACTIVATED)),
  c(cmd(TPM_ORD.SaveState)),
  { kind: 'init' },
  c(startup(TPM_ST.STATE)),
  c(getCapability(TPM_CAP.FLAG, u32(TPM_CAP_FLAG.VOLATILE))),
  c(pcrRead(0)),
  c(extend(0, D)),
  c(getRandom(8)),
];

export const drtmStream: Step[] = [
  { kind: 'getEstablished' },
  c(pcrRead(17)),
  { kind: 'drtm', data: new Uint8Array(0) },
  { kind: 'getEstablished' },
  ...[17, 18, 19, 20, 21, 22].map((p) => c(pcrRead(p))),
  c(extend(18, D), 2),
  { kind: 'drtm', data: fill(5000, 0x42) }, // several HASH_DATA chunks
  c(pcrRead(17)),
  c(pcrRead(18)),
  ...LOCALITIES.map((loc): Step => ({ kind: 'resetEstablished', locality: loc })),
  { kind: 'getEstablished' },
  { kind: 'drtm', data: Uint8Array.of(1) },
  ...LOCALITIES.map((loc) => c(cmd(TPM_ORD.TSC_ResetEstablishmentBit), loc)),
  { kind: 'getEstablished' },
  c(cmd(TPM_ORD.TSC_ResetEstablishmentBit, Uint8Array.of(0)), 3),
  c(cmd(TPM_ORD.TSC_ResetEstablishmentBit, new Uint8Array(0), TPM_TAG.RQU_AUTH1_COMMAND), 3),
  { kind: 'hashData', data: Uint8Array.of(1) }, // no context: TPM_SHA_THREAD, failure mode
  c(pcrRead(17)),
  c(getTestResult()),
  c(getCapability(TPM_CAP.PROPERTY, u32(TPM_CAP_PROP.PCR))),
  c(getCapability(TPM_CAP.PROPERTY, u32(TPM_CAP_PROP.MANUFACTURER))),
  c(getCapability(TPM_CAP.VERSION, new Uint8Array(0))),
  { kind: 'hashStart' }, // allowed in failure mode
  { kind: 'hashData', data: fill(70, 1) },
  // a second HASH_START while one is open: libtpms answers TPM_FAIL and keeps the old context
  { kind: 'hashStart' },
  { kind: 'hashData', data: fill(3, 2) },
  { kind: 'hashEnd' },
  { kind: 'hashEnd' },
  // a failing second HASH_START rolls tpmEstablished back, but PCR 17–22 are zeroed anyway
  { kind: 'init' },
  c(startup(TPM_ST.CLEAR)),
  { kind: 'hashStart' },
  { kind: 'resetEstablished', locality: 3 },
  c(extend(18, D), 2),
  { kind: 'hashStart' },
  { kind: 'getEstablished' },
  c(pcrRead(18)),
  c(getTestResult()),
  { kind: 'hashEnd' },
  { kind: 'getEstablished' },
  c(pcrRead(17)),
  { kind: 'init' },
  c(pcrRead(17)),
  { kind: 'hashStart' }, // before Startup: TPM_INVALID_POSTINIT, failure mode
  c(startup(TPM_ST.CLEAR)),
  c(getTestResult()),
  { kind: 'hashStart' },
  { kind: 'hashEnd' },
  c(pcrRead(17)),
  { kind: 'init' },
  c(startup(TPM_ST.CLEAR)),
  { kind: 'hashStart' },
  { kind: 'init' }, // an open context dies with TPM_Init
  c(startup(TPM_ST.CLEAR)),
  { kind: 'hashEnd' },
  { kind: 'getEstablished' },
];


/** TSC_PhysicalPresence (Part 3 §6.2): lifetime settings, assertions, locks, flags in GetCapability. */
const PPV = [
  0x0000, 0x0001, 0x0400, 0x8000, // nothing / unknown bits
  0x0008, // PRESENT before CMD_ENABLE
  0x0020, // CMD_ENABLE
  0x0028, // lifetime and assertion mixed
  0x0060, 0x0120, 0x0240, // HW+CMD enable; CMD enable+disable; HW enable+disable
  0x0008, 0x0010, 0x000c, 0x0018, 0x0008, // PRESENT, NOTPRESENT, LOCK|PRESENT, PRESENT|NOTPRESENT
  0x0014, // LOCK|NOTPRESENT
  0x0008, // after the lock
  0x0100, 0x0008, 0x0020, 0x0040, 0x0200,
];
export const physicalPresenceStream: Step[] = [
  ...PPV.flatMap((v): Step[] => [
    c(cmd(TPM_ORD.TSC_PhysicalPresence, u16(v))),
    c(getCapability(TPM_CAP.FLAG, u32(TPM_CAP_FLAG.PERMANENT))),
    c(getCapability(TPM_CAP.FLAG, u32(TPM_CAP_FLAG.VOLATILE))),
  ]),
  c(cmd(TPM_ORD.TSC_PhysicalPresence, Uint8Array.of(0))),
  c(cmd(TPM_ORD.TSC_PhysicalPresence, Uint8Array.of(0, 0x20, 0))),
  c(cmd(TPM_ORD.TSC_PhysicalPresence, u16(0x0020), TPM_TAG.RQU_AUTH1_COMMAND)),
  // PRESENT survives SaveState/ST_STATE; TPM_Init clears the lock, not the permanent flags
  { kind: 'init' },
  c(cmd(TPM_ORD.TSC_PhysicalPresence, u16(0x0008))), // before Startup
  c(startup(TPM_ST.CLEAR)),
  c(cmd(TPM_ORD.TSC_PhysicalPresence, u16(0x0020))),
  c(cmd(TPM_ORD.TSC_PhysicalPresence, u16(0x0008))),
  c(cmd(TPM_ORD.SaveState)),
  { kind: 'init' },
  c(startup(TPM_ST.STATE)),
  c(getCapability(TPM_CAP.FLAG, u32(TPM_CAP_FLAG.VOLATILE))),
  c(cmd(TPM_ORD.TSC_PhysicalPresence, u16(0x0014))),
  c(cmd(TPM_ORD.SaveState)),
  { kind: 'init' },
  c(startup(TPM_ST.STATE)),
  c(cmd(TPM_ORD.TSC_PhysicalPresence, u16(0x0008))), // lock restored too
  c(getCapability(TPM_CAP.FLAG, u32(TPM_CAP_FLAG.VOLATILE))),
  // lifetime lock: no more lifetime changes, assertions still work after TPM_Init
  { kind: 'init' },
  c(startup(TPM_ST.CLEAR)),
  c(cmd(TPM_ORD.TSC_PhysicalPresence, u16(0x00a0))), // LIFETIME_LOCK | CMD_ENABLE
  c(cmd(TPM_ORD.TSC_PhysicalPresence, u16(0x0100))),
  c(cmd(TPM_ORD.TSC_PhysicalPresence, u16(0x0008))),
  c(getCapability(TPM_CAP.FLAG, u32(TPM_CAP_FLAG.PERMANENT))),
  c(getCapability(TPM_CAP.FLAG, u32(TPM_CAP_FLAG.VOLATILE))),
];
