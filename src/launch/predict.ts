/**
 * Predicting a launch: each combination of variant parts runs on its own private session (never
 * registered anywhere, so nothing is left behind), built from the manifest's options exactly as
 * POST /v1/sessions builds one. A live session runs the same `applyLaunch` in one transaction.
 */
import { DomainError } from '../errors.js';
import type { BankName } from '../hash/index.js';
import { resolveSessionOptions } from '../sessions/options.js';
import { Session, type SessionOptions } from '../sessions/session.js';
import { applyLaunch, type LaunchResult } from './apply.js';
import { combinations, variantCount, type LaunchManifest } from './manifest.js';
import type { PartData } from './parts.js';

export interface Prediction {
  family: SessionOptions['family'];
  banks: BankName[];
  compat: SessionOptions['compat'];
  results: LaunchResult[];
}

export interface OptionLimits {
  defaultLogSize: number;
  maxLogSize: number;
}

export function launchOptions(manifest: LaunchManifest, limits: OptionLimits): SessionOptions {
  return resolveSessionOptions(manifest.options, limits);
}

/** The banks host-hashed parts need for these options (what the session will allocate). */
export function launchBanks(opts: SessionOptions): BankName[] {
  return opts.family === '1.2' ? ['sha1'] : [...opts.banks];
}

export async function predictLaunch(manifest: LaunchManifest, parts: ReadonlyMap<string, PartData>, opts: SessionOptions): Promise<Prediction> {
  const results: LaunchResult[] = [];
  for (const choice of combinations(manifest)) {
    const session = new Session('prediction', opts, Date.now());
    results.push(await session.transact(() => applyLaunch(session, manifest, parts, choice)));
  }
  return { family: opts.family, banks: launchBanks(opts), compat: opts.compat, results };
}

/** A live session takes the manifest only if it has no variants and its options match the session's. */
export function checkLiveManifest(session: Session, manifest: LaunchManifest, limits: OptionLimits): void {
  const n = variantCount(manifest);
  if (n > 1) throw new DomainError('launch-rule', `a live TPM takes one launch; the manifest has ${n} variant combinations (use POST /v1/launches for variants)`, { field: '(variants)' });
  if (manifest.given.length === 0) return;
  const want = resolveSessionOptions({ ...manifest.options, family: manifest.options.family ?? session.options.family }, limits);
  const have = session.options;
  for (const k of manifest.given) {
    const a = JSON.stringify(k === 'banks' ? want.banks : want[k]);
    const b = JSON.stringify(k === 'banks' ? session.engine.banks() : have[k]);
    if (a !== b) throw new DomainError('invalid-option', `manifest ${k} is ${a} but the session has ${b}; omit it or create a session with it`, { field: k });
  }
}
