/**
 * Builds the engine for a family. The only place that knows both engine modules.
 */
import type { BankName } from '../hash/index.js';
import type { TpmEngine, TpmFamily } from './engine.js';
import { createTpm12, Tpm12Engine } from '../tpm12/index.js';
import { createTpm2, Tpm2Engine } from '../tpm2/index.js';

export interface EngineOptions {
  startup: boolean;
  banks: BankName[];
}

export function createEngine(family: TpmFamily, opts: EngineOptions): TpmEngine {
  if (family === '1.2') return createTpm12({ startup: opts.startup });
  return createTpm2({ startup: opts.startup, banks: opts.banks });
}

/** Rebuild an engine from `snapshot()` data (each engine validates its own shape). */
export function restoreEngine(family: TpmFamily, snapshot: unknown): TpmEngine {
  return family === '1.2' ? Tpm12Engine.restore(snapshot) : Tpm2Engine.restore(snapshot);
}
