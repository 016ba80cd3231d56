/**
 * An engine that reports each command it executes (family and return code) to a callback, then
 * behaves exactly as the engine it wraps. Used for metrics; the wrapped engine is untouched.
 */
import type { BankName } from '../hash/index.js';
import type { Locality, TpmEngine, TpmFamily } from './engine.js';

export type CommandCallback = (family: TpmFamily, rc: number) => void;

/** The response's return code: bytes 6..9, big-endian, in both families (TPM 1.2 Part 3 §1; TPM 2.0 Part 1 §18). */
function responseRc(rsp: Uint8Array): number {
  return rsp.length >= 10 ? ((rsp[6] as number) * 0x1000000 + (((rsp[7] as number) << 16) | ((rsp[8] as number) << 8) | (rsp[9] as number))) : -1;
}

/**
 * An engine that forwards everything to the one it wraps: the base of engines that watch the
 * commands (metrics here; recorders in tests). A class, not an object of closures: sessions are
 * many (a test farm holds 10,000), and closures per engine cost ~2 KiB each where prototype methods
 * cost nothing per instance.
 */
export class DelegatingEngine implements TpmEngine {
  constructor(readonly inner: TpmEngine) {}

  hashStartEndDigests(digests: Partial<Record<BankName, Uint8Array>>): number {
    if (!this.inner.hashStartEndDigests) throw new Error('this engine cannot launch from digests');
    return this.inner.hashStartEndDigests(digests);
  }

  get family(): TpmFamily {
    return this.inner.family;
  }

  get bufferSize(): number {
    return this.inner.bufferSize;
  }

  get established(): boolean {
    return this.inner.established;
  }

  execute(command: Uint8Array, locality: Locality): Uint8Array {
    return this.inner.execute(command, locality);
  }

  hashStart(): number {
    return this.inner.hashStart();
  }

  hashData(data: Uint8Array): number {
    return this.inner.hashData(data);
  }

  hashEnd(): number {
    return this.inner.hashEnd();
  }

  resetEstablishment(locality: Locality): number {
    return this.inner.resetEstablishment(locality);
  }

  init(): void {
    this.inner.init();
  }

  pcrs(): Partial<Record<BankName, Uint8Array[]>> {
    return this.inner.pcrs();
  }

  banks(): BankName[] {
    return this.inner.banks();
  }

  snapshot(): unknown {
    return this.inner.snapshot();
  }
}

class ObservedEngine extends DelegatingEngine {
  constructor(
    inner: TpmEngine,
    private readonly onCommand: CommandCallback,
  ) {
    super(inner);
  }

  override execute(command: Uint8Array, locality: Locality): Uint8Array {
    const rsp = this.inner.execute(command, locality);
    this.onCommand(this.inner.family, responseRc(rsp));
    return rsp;
  }
}

export function observedEngine(inner: TpmEngine, onCommand: CommandCallback): TpmEngine {
  return new ObservedEngine(inner, onCommand);
}
