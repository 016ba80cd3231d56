/**
 * Where swtpm 0.7.1 / libtpms 0.9.2 (the truth) disagrees with, or goes beyond, what a reader of the
 * TPM Main 1.2 specification or of the libtpms source would expect. Each row states that
 * expectation and its source, then what swtpm does; the expected outcomes are asserted on the
 * engine (always) and on swtpm (when installed).
 */
import { describe, expect, it } from 'vitest';
import { TPM_CAP, TPM_ORD, TPM_ST, TPM_TAG, createTpm12 } from '../../src/tpm12/index.js';
import { Swtpm, describeWithSwtpm } from '../support/swtpm.js';
import { cmd, extend, fill, getCapability, getRandom, pcrRead, pcrReset, rawCmd, sha1Complete, sha1Start, sha1Update, startup, u32 } from './support/commands.js';
import { SwtpmDriver, applyToEngine, type Step } from './support/differential.js';

interface Row {
  readonly name: string;
  readonly startup: boolean;
  /** Steps with the outcome each must produce (hex response or 'rc n' / 'established b'). */
  readonly script: ReadonlyArray<readonly [Step, string]>;
}
const c = (bytes: Uint8Array, locality: 0 | 1 | 2 | 3 | 4 = 0): Step => ({ kind: 'cmd', locality, bytes });
const E = (rc: number): string => `00c40000000a${rc.toString(16).padStart(8, '0')}`;
const OK = E(0x00);

const ROWS: readonly Row[] = [
  {
    name: 'error replies have tag C4 (TPM_TAG_RSP_COMMAND), but an unknown ordinal keeps an auth tag (C3 → C6, libtpms TPM_Process_Unused)',
    startup: true,
    script: [
      [c(cmd(0x00000001, new Uint8Array(0), TPM_TAG.RQU_AUTH2_COMMAND)), '00c60000000a0000000a'],
      [c(cmd(TPM_ORD.PcrRead, u32(0), TPM_TAG.RQU_AUTH2_COMMAND)), E(0x1e)], // known ordinal: C4
    ],
  },
  {
    name: 'commands before TPM_Startup answer INVALID_POSTINIT (libtpms TPM_CheckState), but parse errors and unknown ordinals answer first',
    startup: false,
    script: [
      [c(cmd(0x00000001)), E(0x0a)],
      [c(cmd(TPM_ORD.PcrRead, Uint8Array.of(0))), E(0x19)],
      [c(getCapability(TPM_CAP.VERSION, new Uint8Array(0))), E(0x26)], // even TPM_CAP_VERSION
      [c(pcrRead(0)), E(0x26)],
    ],
  },
  {
    name: 'a second TPM_Startup fails with INVALID_POSTINIT, and a Startup that itself fails still ends post-init state',
    startup: false,
    script: [
      [c(startup(0x0004)), E(0x03)],
      [c(startup(TPM_ST.CLEAR)), E(0x26)],
      [c(pcrRead(0)), `00c40000001e00000000${'00'.repeat(20)}`],
    ],
  },
  {
    name: 'beyond the spec text: Startup(ST_STATE) with nothing saved is TPM_FAILEDSELFTEST and failure mode until TPM_Init',
    startup: false,
    script: [
      [c(startup(TPM_ST.STATE)), E(0x1c)],
      [c(pcrRead(0)), E(0x1c)],
      [c(extend(0, fill(20, 1))), E(0x1c)],
      [{ kind: 'init' }, 'rc 0'],
      [c(startup(TPM_ST.CLEAR)), OK],
    ],
  },
  {
    name: 'HASH_START before Startup (libtpms TPM12_IO_Hash_Start): INVALID_POSTINIT and failure mode, so the next Startup is TPM_FAILEDSELFTEST',
    startup: false,
    script: [
      [{ kind: 'hashStart' }, 'rc 38'],
      [c(startup(TPM_ST.CLEAR)), E(0x1c)],
    ],
  },
  {
    name: 'beyond the spec text: a second HASH_START without HASH_END is TPM_FAIL (failure mode) and does not set tpmEstablished',
    startup: true,
    script: [
      [{ kind: 'hashStart' }, 'rc 0'],
      [{ kind: 'resetEstablished', locality: 3 }, 'rc 0'],
      [{ kind: 'hashStart' }, 'rc 9'],
      [{ kind: 'getEstablished' }, 'established false'],
      [c(pcrRead(0)), E(0x1c)],
    ],
  },
  {
    name: 'RESET_TPMESTABLISHED (TPM12_IO_TpmEstablished_Reset) works before TPM_Startup too',
    startup: false,
    script: [[{ kind: 'resetEstablished', locality: 4 }, 'rc 0']],
  },
  {
    name: 'TPM_Extend answers a zero outDigest when deactivated (TPM Main Part 3 §16.1), but PcrRead and GetRandom then answer TPM_DEACTIVATED',
    startup: false,
    script: [
      [c(startup(TPM_ST.DEACTIVATED)), OK],
      [c(extend(0, fill(20, 1))), `00c40000001e00000000${'00'.repeat(20)}`],
      [c(pcrRead(0)), E(0x06)],
      [c(getRandom(4)), E(0x06)],
    ],
  },
  {
    name: 'TPM_PCR_Reset: an invalid selection is INVALID_PCR_INFO (libtpms TPM_Process_PcrReset), but a selection shorter than sizeOfSelect is BAD_PARAM_SIZE',
    startup: true,
    script: [
      [c(pcrReset(3, Uint8Array.of(0))), E(0x19)],
      [c(pcrReset(4, new Uint8Array(0))), E(0x10)], // sizeOfSelect checked before the bytes
      [c(pcrReset(3, Uint8Array.of(1, 0, 1))), E(0x32)], // PCR 0 checked first: NOTRESETABLE
    ],
  },
  {
    name: 'any other command kills the SHA-1 thread (libtpms TPM_Check_SHA1Context), but one with a malformed header does not',
    startup: true,
    script: [
      [c(sha1Start()), '00c40000000e0000000000000fc0'],
      [c(rawCmd(TPM_TAG.RQU_COMMAND, 0x0e, TPM_ORD.PcrRead)), E(0x19)],
      [c(sha1Complete(new Uint8Array(0))), '00c40000001e00000000da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    ],
  },
  {
    name: 'beyond the spec text: TPM_SHA1Update numBytes above 128 KiB (libtpms TPM_ALLOC_MAX) is TPM_SIZE and the thread survives',
    startup: true,
    script: [
      [c(sha1Start()), '00c40000000e0000000000000fc0'],
      [c(sha1Update(new Uint8Array(0), 0x00030000)), E(0x17)],
      [c(sha1Update(fill(64, 0))), OK],
    ],
  },
];

function engineOutcomes(row: Row): string[] {
  const e = createTpm12({ startup: row.startup });
  return row.script.map(([step]) => applyToEngine(e, step));
}

describe('spec vs swtpm: the engine follows swtpm', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      expect(engineOutcomes(row)).toEqual(row.script.map(([, want]) => want));
    });
  }
});

describeWithSwtpm('spec vs swtpm: swtpm itself', () => {
  for (const row of ROWS) {
    it(row.name, async () => {
      const peer = await Swtpm.start({ startupClear: row.startup });
      try {
        const d = new SwtpmDriver(peer);
        const got: string[] = [];
        for (const [step] of row.script) got.push(await d.apply(step));
        expect(got).toEqual(row.script.map(([, want]) => want));
      } finally {
        await peer.stop();
      }
    });
  }
});
