/**
 * Differential test: tpm2_eventlog (tpm2-tools 5.4) must parse TCG2 logs written by our writer
 * and print the same PCR values as our replay. Skipped loudly if the tool is missing (fails in CI).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { digest, type BankName } from '../../src/hash/index.js';
import { EV, SLAUNCH_EVTYPE } from '../../src/eventlog/constants.js';
import { parseEventLog } from '../../src/eventlog/parse.js';
import { pcrsToHex, replayEventLog } from '../../src/eventlog/replay.js';
import { Tcg2Log } from '../../src/eventlog/tcg2.js';
import { requireTool } from '../support/tools.js';

const installed = requireTool('tpm2_eventlog', 'tpm2_eventlog differential tests', 'tpm2-tools');

const dir = mkdtempSync(join(tmpdir(), 'tpm-measure-evlog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The trailing `pcrs:` block of tpm2_eventlog's YAML → {bank: {index: hex}}. */
function parsePcrsBlock(yaml: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  const at = yaml.lastIndexOf('\npcrs:');
  let bank = '';
  for (const line of yaml.slice(at + 6).split('\n')) {
    const b = /^ {2}(\w+):\s*$/.exec(line);
    if (b?.[1]) {
      bank = b[1];
      out[bank] = {};
      continue;
    }
    const p = /^ {4}(\d+)\s*:\s*0x([0-9a-fA-F]+)\s*$/.exec(line);
    if (p?.[1] && p[2] && bank) (out[bank] as Record<string, string>)[p[1]] = p[2].toLowerCase();
  }
  return out;
}

const cases: [string, BankName[]][] = [
  ['1 bank', ['sha256']],
  ['2 banks', ['sha1', 'sha256']],
  ['4 banks', ['sha1', 'sha256', 'sha384', 'sha512']],
];

describe.skipIf(!installed)('tpm2_eventlog parses our TCG2 logs', () => {
  it.each(cases)('%s: printed PCRs equal our replay', (_name, banks) => {
    const log = new Tcg2Log({ banks });
    const enc = new TextEncoder();
    const items: [number, number, string][] = [
      [0, EV.POST_CODE, 'firmware'],
      [7, EV.SEPARATOR, '\0\0\0\0'],
      [17, SLAUNCH_EVTYPE.SLAUNCH, 'Measured MB2 module'],
      [18, SLAUNCH_EVTYPE.SLAUNCH, ''],
      [18, SLAUNCH_EVTYPE.SLAUNCH, 'Measured TXT OS-MLE data'],
    ];
    for (const [pcr, type, text] of items) {
      const data = enc.encode(text);
      const digests = Object.fromEntries(banks.map((b) => [b, digest(b, enc.encode(`blob ${pcr} ${text}`))]));
      expect(log.append({ pcr, type, digests, data })).not.toBeNull();
    }
    const file = join(dir, `log-${banks.length}.bin`);
    writeFileSync(file, log.bytes());
    const run = spawnSync('tpm2_eventlog', [file], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const theirs = parsePcrsBlock(run.stdout);
    const ours = pcrsToHex(replayEventLog(parseEventLog(log.bytes())));
    expect(Object.keys(theirs).sort()).toEqual([...banks].sort());
    expect(theirs).toEqual(ours);
    expect(Object.keys(ours.sha256 ?? {}).sort()).toEqual(['0', '17', '18', '7']);
  });
});
