/**
 * The TPM 1.2 engine: a PC Client TPM 1.2 (TPM Main Specification 1.2 rev 116, PC Client TIS 1.21)
 * whose responses are byte-identical to libtpms 0.9.2 / swtpm 0.7.1 for the supported commands.
 * Pure domain code: no I/O, no logging.
 */
import { randomBytes } from 'node:crypto';
import type { BankName } from '../hash/index.js';
import type { Locality, TpmEngine, TpmFamily } from '../tpm/engine.js';
import { BeWriter } from '../bytes/index.js';
import { TPM12_BUFFER_SIZE, TPM_ORD, TPM_SHA1_MAXNUMBYTES, TPM_ST, TPM_TAG } from './constants.js';
import { processCommand } from './dispatch.js';
import { hashData, hashEnd, hashStart, hashStartEndDigest, resetEstablishment } from './drtm.js';
import { restoreState, snapshotState, type Tpm12Snapshot } from './snapshot.js';
import { freshState, tpmInit, type Tpm12State } from './state.js';
import { startup } from './commands/startup.js';
import { ParamReader } from './header.js';

export interface CreateTpm12Options {
  /**
   * TRUE (default): TPM_Startup(ST_CLEAR) has already run, like swtpm
   * `--flags not-need-init,startup-clear`. FALSE: freshly initialised, the next command must be
   * TPM_Startup.
   */
  readonly startup?: boolean;
  /** Source of TPM_GetRandom bytes (default node:crypto randomBytes). */
  readonly random?: (n: number) => Uint8Array;
}

const defaultRandom = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

export class Tpm12Engine implements TpmEngine {
  readonly family: TpmFamily = '1.2';
  readonly bufferSize = TPM12_BUFFER_SIZE;

  private constructor(
    private readonly state: Tpm12State,
    private readonly random: (n: number) => Uint8Array,
  ) {}

  /** A brand-new TPM after TPM_Init, optionally with TPM_Startup(ST_CLEAR) done. */
  static create(opts: CreateTpm12Options = {}): Tpm12Engine {
    const engine = new Tpm12Engine(freshState(), opts.random ?? defaultRandom);
    if (opts.startup ?? true) engine.startupClear();
    return engine;
  }

  /** Rebuild an engine from snapshot() data; throws TypeError on malformed input. */
  static restore(snapshot: unknown, opts: Pick<CreateTpm12Options, 'random'> = {}): Tpm12Engine {
    return new Tpm12Engine(restoreState(snapshot), opts.random ?? defaultRandom);
  }

  /** maxNumBytes TPM_SHA1Start reports (libtpms `TPM_SHA1_MAXNUMBYTES`). */
  get maxNumBytes(): number {
    return TPM_SHA1_MAXNUMBYTES;
  }

  execute(command: Uint8Array, locality: Locality): Uint8Array {
    return processCommand(this.state, command, locality, this.random);
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
    const d = digests.sha1;
    if (!d) throw new RangeError('a TPM 1.2 launch needs the sha1 digest');
    return hashStartEndDigest(this.state, d);
  }

  get established(): boolean {
    return this.state.tpmEstablished;
  }
  resetEstablishment(locality: Locality): number {
    return resetEstablishment(this.state, locality);
  }

  init(): void {
    tpmInit(this.state);
  }

  pcrs(): Partial<Record<BankName, Uint8Array[]>> {
    return { sha1: this.state.pcrs.copies() };
  }
  banks(): BankName[] {
    return ['sha1'];
  }

  snapshot(): Tpm12Snapshot {
    return snapshotState(this.state);
  }

  /** What swtpm's startup-clear flag does: an internal TPM_Startup(ST_CLEAR) (no preprocessing). */
  private startupClear(): void {
    const params = new ParamReader(new BeWriter(2).u16(TPM_ST.CLEAR).finish());
    startup({ state: this.state, tag: TPM_TAG.RQU_COMMAND, ordinal: TPM_ORD.Startup, params, locality: 0, random: this.random });
  }
}

export function createTpm12(opts: CreateTpm12Options = {}): Tpm12Engine {
  return Tpm12Engine.create(opts);
}
