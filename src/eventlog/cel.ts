/**
 * TCG Canonical Event Log, JSON encoding (CEL-JSON, TCG "Canonical Event Log Format" v1.0 §5):
 * one object per record with recnum, pcr, digests [{hashAlg, digest}], content_type
 * "pcclient_std" and content {event_type (numeric form), event_data (hex, as in the spec's §5.3
 * example and in tpm2-tss / systemd output)}. Spec ID header records are not emitted (CEL carries
 * the algorithm of each digest in the record itself).
 */
import { toHex } from '../bytes/index.js';
import { EV } from './constants.js';
import type { ParsedLog } from './model.js';
import { isSpecId00, isSpecId03 } from './spec-id.js';

export interface CelJsonRecord {
  recnum: number;
  pcr: number;
  digests: { hashAlg: string; digest: string }[];
  content_type: 'pcclient_std';
  /** event_data: lowercase hex of the event bytes. */
  content: { event_type: number; event_data: string };
}

/** CEL-JSON records `offset` … `offset + limit − 1` (record numbers; all of them by default). */
export function toCelJson(log: ParsedLog, page: { offset?: number; limit?: number } = {}): CelJsonRecord[] {
  const out: CelJsonRecord[] = [];
  const first = page.offset ?? 0;
  const end = page.limit === undefined ? Infinity : first + page.limit;
  let recnum = 0;
  for (const e of log.events) {
    if (e.type === EV.NO_ACTION && (isSpecId03(e.data) || isSpecId00(e.data))) continue;
    const n = recnum++;
    if (n < first) continue;
    if (n >= end) break;
    out.push({
      recnum: n,
      pcr: e.pcr,
      digests: e.digests.map((d) => ({
        hashAlg: d.bank === 'sm3_256' ? 'sm3_256' : (d.bank ?? `0x${d.algorithmId.toString(16).padStart(4, '0')}`),
        digest: toHex(d.digest),
      })),
      content_type: 'pcclient_std',
      content: { event_type: e.type, event_data: toHex(e.data) },
    });
  }
  return out;
}
