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

export function observedEngine(inner: TpmEngine, onCommand: CommandCallback): TpmEngine {
  const engine: TpmEngine = {
    get family() {
      return inner.family;
    },
    get bufferSize() {
      return inner.bufferSize;
    },
    get established() {
      return inner.established;
    },
    execute(command: Uint8Array, locality: Locality): Uint8Array {
      const rsp = inner.execute(command, locality);
      onCommand(inner.family, responseRc(rsp));
      return rsp;
    },
    hashStart: () => inner.hashStart(),
    hashData: (data: Uint8Array) => inner.hashData(data),
    hashEnd: () => inner.hashEnd(),
    resetEstablishment: (locality: Locality) => inner.resetEstablishment(locality),
    init: () => inner.init(),
    pcrs: () => inner.pcrs(),
    banks: () => inner.banks(),
    snapshot: () => inner.snapshot(),
  };
  if (inner.hashStartEndDigests) {
    const f = inner.hashStartEndDigests.bind(inner);
    engine.hashStartEndDigests = (digests: Partial<Record<BankName, Uint8Array>>) => f(digests);
  }
  return engine;
}
