/**
 * Text and JSON renderings of replay / verify results for the CLI.
 */
import { toHex } from '../bytes/index.js';
import { eventTypeName } from '../eventlog/constants.js';
import { decodeEventData } from '../eventlog/decode.js';
import type { ParsedLog } from '../eventlog/model.js';
import type { BankName } from '../hash/index.js';
import { pcrsToHex, type ReplayResult } from '../eventlog/replay.js';
import type { VerifyResult } from '../eventlog/verify.js';

const algName = (id: number, bank: string | null): string => bank ?? `0x${id.toString(16).padStart(4, '0')}`;

export function eventsJson(log: ParsedLog): unknown[] {
  return log.events.map((e) => ({
    index: e.index,
    offset: e.offset,
    pcr: e.pcr,
    type: e.type,
    typeName: eventTypeName(e.type),
    digests: Object.fromEntries(e.digests.map((d) => [algName(d.algorithmId, d.bank), toHex(d.digest)])),
    dataSize: e.data.length,
    details: decodeEventData(e.pcr, e.type, e.data),
  }));
}

export function replayJson(log: ParsedLog, r: ReplayResult, withEvents: boolean, all: boolean): unknown {
  return {
    format: log.format,
    algorithms: log.algorithms.map((a) => ({ algorithmId: a.algorithmId, digestSize: a.digestSize })),
    startupLocality: r.startupLocality,
    dynamicLaunch: r.dynamicLaunch,
    dynamicLaunchRecord: r.launchRecord,
    skippedAlgorithms: r.skippedAlgorithms,
    warnings: [...log.warnings, ...r.warnings],
    pcrs: pcrsToHex(r, all),
    untouched: r.untouched,
    ...(withEvents ? { events: eventsJson(log) } : {}),
  };
}

export function replayText(log: ParsedLog, r: ReplayResult, withEvents: boolean, all: boolean): string {
  const lines: string[] = [];
  lines.push(`format: ${log.format}`);
  lines.push(`banks: ${log.algorithms.map((a) => `${algName(a.algorithmId, null)}/${a.digestSize}`).join(' ')}`);
  if (r.startupLocality !== null) lines.push(`startup locality: ${r.startupLocality}`);
  lines.push(`dynamic launch: ${r.dynamicLaunch ? 'yes' : 'no'}${r.launchRecord !== null ? ` (record #${r.launchRecord})` : ''}`);
  for (const w of [...log.warnings, ...r.warnings]) lines.push(`warning: ${w}`);
  if (withEvents) {
    lines.push('events:');
    for (const e of log.events) {
      const d = decodeEventData(e.pcr, e.type, e.data);
      lines.push(`  #${e.index} @${e.offset} PCR ${e.pcr} ${eventTypeName(e.type)} size ${e.data.length} ${JSON.stringify(d)}`);
      for (const g of e.digests) lines.push(`      ${algName(g.algorithmId, g.bank)}: ${toHex(g.digest)}`);
    }
  }
  lines.push('pcrs:');
  for (const [bank, m] of Object.entries(pcrsToHex(r, all))) {
    lines.push(`  ${bank}:`);
    const untouched = new Set(r.untouched[bank as BankName] ?? []);
    for (const [i, v] of Object.entries(m)) lines.push(`    ${i.padStart(2)}: ${v}${untouched.has(Number(i)) ? '  (untouched: reset value)' : ''}`);
    if (!all && untouched.size > 0) lines.push(`    untouched (reset values, --all prints them): ${ranges([...untouched])}`);
  }
  return lines.join('\n') + '\n';
}

/** `[0, 1, 2, 5, 7, 8]` → `0-2, 5, 7-8`. */
function ranges(xs: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && (xs[j + 1] as number) === (xs[j] as number) + 1) j++;
    out.push(j === i ? String(xs[i]) : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}

export function verifyText(v: VerifyResult): string {
  const lines: string[] = [];
  for (const c of v.checks) {
    lines.push(`${c.match ? 'MATCH   ' : 'MISMATCH'} ${c.bank}:${c.pcr}${c.match ? '' : ` expected ${c.expected} got ${c.actual ?? '(none)'}`}${c.untouched ? ' (untouched)' : ''}`);
    if (c.match) {
      if (c.note) lines.push(`    note: ${c.note}`);
      continue;
    }
    for (const e of c.events ?? []) lines.push(`    fed by #${e.index} @${e.offset} ${e.typeName} ${e.digest}`);
    for (const f of c.likelyCause ?? []) lines.push(`    likely cause: #${f.eventIndex} @${f.offset} ${eventTypeName(f.type)}: logged digest differs from the hash of its data`);
    if (c.note) lines.push(`    note: ${c.note}`);
  }
  for (const f of v.dataDigestFindings) {
    lines.push(`inconsistent: #${f.eventIndex} @${f.offset} PCR ${f.pcr} ${eventTypeName(f.type)}: digest differs from the hash of its data`);
  }
  lines.push(v.ok ? `OK: ${v.checks.length} PCR values match` : `FAIL: ${v.mismatches.length} of ${v.checks.length} PCR values differ`);
  return lines.join('\n') + '\n';
}

export function verifyJson(v: VerifyResult): unknown {
  return { ok: v.ok, checks: v.checks, dataDigestFindings: v.dataDigestFindings };
}
