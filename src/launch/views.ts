/** JSON shapes of predictions and their exports, as openapi.yaml describes them (shared by the HTTP route and the CLI). */
import { DomainError } from '../errors.js';
import { BANK_NAMES, type BankName } from '../hash/index.js';
import type { LaunchResult } from './apply.js';
import { keylimePolicy, pcrlockDocument, policyPcrExport } from './exports.js';
import type { Prediction } from './predict.js';

export function resultView(r: LaunchResult, withChoice: boolean): Record<string, unknown> {
  return {
    ...(withChoice ? { choice: r.choice } : {}),
    pcrs: r.pcrs,
    steps: r.steps,
    log: { format: r.log.format, base64: Buffer.from(r.log.bytes).toString('base64') },
    ...(r.pointer ? { pointer: { ...r.pointer, bytes: Buffer.from(r.pointer.bytes).toString('base64') } } : {}),
  };
}

export function predictionView(p: Prediction): Record<string, unknown> {
  const head = { family: p.family, banks: p.banks, compat: p.compat };
  if (p.results.length === 1) return { ...head, ...resultView(p.results[0] as LaunchResult, false) };
  return { ...head, variants: p.results.map((r) => resultView(r, true)) };
}

export interface LaunchQuery {
  export?: 'keylime' | 'pcrlock' | 'policy-pcr';
  bank?: string;
  pcrs?: string;
}

export function exportView(p: Prediction, q: LaunchQuery): unknown {
  // Default: sha256, or the only bank of a TPM 1.2 launch.
  const bank = (q.bank ?? (p.banks.includes('sha256') ? 'sha256' : p.banks[0])) as BankName;
  if (!(BANK_NAMES as readonly string[]).includes(bank)) throw new DomainError('invalid-option', `bank must be one of ${BANK_NAMES.join(', ')}`, { field: 'bank' });
  const pcrs = (q.pcrs ?? '17,18').split(',').map((s) => (/^\d{1,2}$/.test(s.trim()) ? Number(s.trim()) : NaN));
  if (pcrs.some((n) => !Number.isInteger(n))) throw new DomainError('invalid-option', 'pcrs must be a comma-separated list of PCR numbers, e.g. 17,18', { field: 'pcrs' });
  if (q.export === 'keylime') return keylimePolicy(p.results, bank, pcrs);
  if (q.export === 'pcrlock') return p.results.length === 1 ? pcrlockDocument(p.results[0] as LaunchResult) : p.results.map(pcrlockDocument);
  return policyPcrExport(p.results, bank, pcrs);
}

