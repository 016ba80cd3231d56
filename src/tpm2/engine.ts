/**
 * The TPM 2.0 engine: a pure, in-memory TPM 2.0 answering the DRTM command set byte for byte
 * like `swtpm --tpm2` (libtpms 0.9.2). Commands: TPM 2.0 Library Part 3; PCR rules: pcr.ts
 * (PC Client PCR attributes, libtpms `PCR.c`).
 */
import { randomBytes } from 'node:crypto';
import { algById, type BankName } from '../hash/index.js';
import type { Locality, TpmEngine } from '../tpm/engine.js';
import { LIMITS, TPM_RH } from './constants.js';
import { COMMANDS, dispatch } from './dispatch.js';
import { hashData, hashEnd, hashStart, hashStartEndDigests, terminateDrtmSequence } from './drtm.js';
import { rcName, TPM_BAD_LOCALITY } from './rc.js';
import { LIBTPMS_HASHES, newState, restoreState, snapshotState, type Tpm2Snapshot, type Tpm2State } from './state.js';

export interface Tpm2Options {
  /**
   * Banks allocated (all 24 PCRs each). Default: what a fresh libtpms 0.9.2 allocates —
   * sha1, sha256, sha384, sha512. 'sm3_256' makes this engine implement SM3 too (libtpms 0.9.2
   * does not build it, so such an engine has no swtpm equivalent).
   */
  banks?: BankName[];
  /** Run TPM2_Startup(SU_CLEAR) at locality 0 after creation (swtpm --flags startup-clear). Default true. */
  startup?: boolean;
  /** Random source for GetRandom (default node:crypto). */
  random?: (n: number) => Uint8Array;
}

const STARTUP_CLEAR = Uint8Array.of(0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44, 0x00, 0x00);

export class Tpm2Engine implements TpmEngine {
  readonly family = '2.0' as const;
  readonly bufferSize = LIMITS.MAX_COMMAND_SIZE;
  private readonly random: (n: number) => Uint8Array;

  private constructor(
    private readonly state: Tpm2State,
    random?: (n: number) => Uint8Array,
  ) {
    this.random = random ?? ((n) => new Uint8Array(randomBytes(n)));
  }

  static create(opts: Tpm2Options = {}): Tpm2Engine {
    const e = new Tpm2Engine(newState(opts.banks ?? [...LIBTPMS_HASHES]), opts.random);
    if (opts.startup ?? true) e.execute(STARTUP_CLEAR, 0);
    return e;
  }

  static restore(snapshot: unknown, random?: (n: number) => Uint8Array): Tpm2Engine {
    return new Tpm2Engine(restoreState(snapshot), random);
  }

  static rcName(rc: number): string {
    return rcName(rc);
  }

  execute(command: Uint8Array, locality: Locality): Uint8Array {
    return dispatch(command, { state: this.state, locality, random: this.random });
  }

  hashStart(): number {
    return hashStart(this.state);
  }
  hashData(data: Uint8Array): number {
    return hashData(this.state, data);
  }
  hashEnd(): number {
    return hashEnd(this.state);
  }
  hashStartEndDigests(digests: Partial<Record<BankName, Uint8Array>>): number {
    for (const b of this.banks()) if (!digests[b]) throw new RangeError(`a launch digest is needed for every allocated bank; ${b} is missing`);
    return hashStartEndDigests(this.state, (algId) => {
      const a = algById(algId);
      return a ? digests[a.name] : undefined;
    });
  }

  get established(): boolean {
    return this.state.established;
  }

  /** swtpm CMD_RESET_TPMESTABLISHED: localities 3 and 4 only, else TPM_BAD_LOCALITY (0x3D). */
  resetEstablishment(locality: Locality): number {
    if (locality !== 3 && locality !== 4) return TPM_BAD_LOCALITY;
    this.state.established = false;
    return 0;
  }

  /**
   * _TPM_Init (swtpm CMD_INIT): volatile state is lost, a pending PCR_Allocate takes effect,
   * and the next command must be TPM2_Startup. tpmEstablished survives (probed on swtpm).
   */
  init(): void {
    const s = this.state;
    terminateDrtmSequence(s);
    s.started = false;
    s.drtmPreStartup = false;
    s.objects.clear();
    s.sessions.clear();
    s.exclusiveAuditSession = TPM_RH.UNASSIGNED;
    s.pcrs.allocation = s.nvAllocation.map((b) => b.slice());
  }

  pcrs(): Partial<Record<BankName, Uint8Array[]>> {
    const out: Partial<Record<BankName, Uint8Array[]>> = {};
    this.state.suite.algs.forEach((a, i) => {
      const bm = this.state.pcrs.allocation[i];
      if (!bm || bm.every((b) => b === 0)) return;
      out[a.name] = this.state.pcrs.bankCopies(i);
    });
    return out;
  }

  /** Banks with at least one allocated PCR, in bank order. */
  banks(): BankName[] {
    return this.state.suite.algs.filter((_, i) => this.state.pcrs.allocation[i]?.some((b) => b !== 0)).map((a) => a.name);
  }

  /** Hash algorithms the TPM implements (PCR_Event / EventSequenceComplete return one digest each). */
  implementedBanks(): BankName[] {
    return this.state.suite.algs.map((a) => a.name);
  }

  /** Whether TPM2_Startup has run since the last init. */
  get started(): boolean {
    return this.state.started;
  }

  /** The TPM_CC values this engine implements; everything else answers TPM_RC_COMMAND_CODE. */
  static implementedCommands(): number[] {
    return [...COMMANDS.keys()];
  }

  snapshot(): Tpm2Snapshot {
    return snapshotState(this.state);
  }
}

export function createTpm2(opts: Tpm2Options = {}): Tpm2Engine {
  return Tpm2Engine.create(opts);
}
