/**
 * Golden values in the formats attestation tools consume, computed from predicted launches.
 *
 * - Keylime `tpm_policy` (keylime/tpm/tpm_main.py check_pcrs; docs "Runtime PCR policy"): a PCR mask
 *   and, per PCR, the list of allowed values.
 * - systemd `.pcrlock` (systemd-pcrlock(8), "PCR lock JSON"): `{"records":[{"pcr", "digests":
 *   [{"hashAlg","digest"}]}]}`, one record per extend, in order.
 * - TPM2_PolicyPCR (TPM 2.0 Part 3 §23.7): policyDigest' = H(policyDigest ‖ TPM_CC_PolicyPCR ‖
 *   TPML_PCR_SELECTION ‖ pcrDigest), pcrDigest = H(PCR values of the selection, in order), from a
 *   trial session whose policyDigest starts as zeros — what `tpm2_createpolicy --policy-pcr` prints.
 */
import { BeWriter, fromHex, toHex } from '../bytes/index.js';
import { digest, mustAlg, type BankName } from '../hash/index.js';
import { DomainError } from '../errors.js';
import type { LaunchResult } from './apply.js';

/** TPM_CC_PolicyPCR (TPM 2.0 Part 2 §6.5.2). */
export const TPM_CC_POLICY_PCR = 0x0000017f;
/** PCRs the launch sets (DRTM_CODE_PCR, DRTM_DATA_PCR). */
export const LAUNCH_PCRS = [17, 18] as const;

function checkPcrs(pcrs: readonly number[]): void {
  for (const p of pcrs) if (p !== 17 && p !== 18) throw new DomainError('invalid-option', `pcrs: a launch predicts PCR 17 and 18 only, got ${p}`, { field: 'pcrs' });
}

function checkBank(results: readonly LaunchResult[], bank: BankName): void {
  if (!results[0]?.pcrs[bank]) throw new DomainError('invalid-option', `bank ${bank} is not one of the launch's banks (${Object.keys(results[0]?.pcrs ?? {}).join(', ')})`, { field: 'bank' });
}

export function keylimePolicy(results: readonly LaunchResult[], bank: BankName, pcrs: readonly number[] = LAUNCH_PCRS): Record<string, unknown> {
  checkBank(results, bank);
  checkPcrs(pcrs);
  let mask = 0;
  const out: Record<string, unknown> = {};
  for (const p of pcrs) {
    mask |= 1 << p;
    const values: string[] = [];
    for (const r of results) {
      const v = r.pcrs[bank]?.[String(p)];
      if (v && !values.includes(v)) values.push(v);
    }
    out[String(p)] = values;
  }
  return { mask: '0x' + mask.toString(16), ...out };
}

export interface PcrlockDocument {
  records: { pcr: number; digests: { hashAlg: string; digest: string }[] }[];
}

/** One record per extend of PCR 17/18 after the launch's reset, in order, every bank. */
export function pcrlockDocument(r: LaunchResult): PcrlockDocument {
  const records: PcrlockDocument['records'] = [];
  for (const s of r.steps) {
    if (!s.extended || !s.extendedDigests || (s.pcr !== 17 && s.pcr !== 18)) continue;
    records.push({ pcr: s.pcr, digests: Object.entries(s.extendedDigests).map(([hashAlg, d]) => ({ hashAlg, digest: d })) });
  }
  return { records };
}

/** TPML_PCR_SELECTION with one TPMS_PCR_SELECTION (sizeofSelect 3) for `bank`. */
export function pcrSelection(bank: BankName, pcrs: readonly number[]): Uint8Array {
  const select = new Uint8Array(3);
  for (const p of pcrs) select[p >> 3] = (select[p >> 3] ?? 0) | (1 << (p & 7));
  return new BeWriter(10).u32(1).u16(mustAlg(bank).algId).u8(3).bytes(select).finish();
}

export interface PolicyPcr {
  pcrDigest: string;
  policyDigest: string;
}

export function policyPcr(values: readonly Uint8Array[], bank: BankName, pcrs: readonly number[], policyAlg: BankName = 'sha256'): PolicyPcr & { selection: string } {
  const sel = pcrSelection(bank, pcrs);
  const pcrDigest = digest(policyAlg, ...values);
  const cc = new BeWriter(4).u32(TPM_CC_POLICY_PCR).finish();
  const policyDigest = digest(policyAlg, new Uint8Array(mustAlg(policyAlg).size), cc, sel, pcrDigest);
  return { selection: toHex(sel), pcrDigest: toHex(pcrDigest), policyDigest: toHex(policyDigest) };
}

export function policyPcrExport(results: readonly LaunchResult[], bank: BankName, pcrs: readonly number[]): Record<string, unknown> {
  checkBank(results, bank);
  checkPcrs(pcrs);
  const sorted = [...new Set(pcrs)].sort((a, b) => a - b);
  const policies = results.map((r) => {
    const p = policyPcr(sorted.map((i) => fromHex(r.pcrs[bank]?.[String(i)] ?? '')), bank, sorted);
    return { choice: r.choice, pcrDigest: p.pcrDigest, policyDigest: p.policyDigest };
  });
  const first = policies[0] as { pcrDigest: string; policyDigest: string };
  return {
    bank,
    policyAlg: 'sha256',
    pcrs: sorted,
    selection: toHex(pcrSelection(bank, sorted)),
    ...(results.length === 1 ? { pcrDigest: first.pcrDigest, policyDigest: first.policyDigest } : {}),
    policies,
  };
}
