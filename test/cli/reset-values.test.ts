/**
 * The CLI shows which PCRs the log extends and which keep their reset value (PCR 17–22 all ones
 * without a dynamic launch), in text and JSON, for replay and verify.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseEventLog } from '../../src/eventlog/parse.js';
import { TxtContainerLog } from '../../src/eventlog/txt-container.js';
import { loadVectors } from '../eventlog/vectors.js';

const tmp = mkdtempSync(join(tmpdir(), 'tpm-measure-cli-reset-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const vector = loadVectors().find((v) => v.name === 'tpm2tools-event-sd-boot-fedora37');
if (!vector?.expected.pcrs) throw new Error('vector tpm2tools-event-sd-boot-fedora37 missing');
const logFile = join(tmp, 'log.bin');
writeFileSync(logFile, vector.bytes);

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

/** PCRs of the vector that an extended record carries a SHA-256 digest for, from the parser alone. */
const extended = new Set(parseEventLog(vector.bytes).events.filter((e) => e.type !== 3 && e.digests.some((d) => d.algorithmId === 0x000b)).map((e) => e.pcr));
const untouched = [...Array(24).keys()].filter((i) => !extended.has(i));

describe('CLI: untouched PCRs and reset values', () => {
  it('replay (text) lists the untouched PCRs; --all marks each one and shows PCR 17–22 as all ones', async () => {
    const r = await run('replay', logFile);
    expect(r.code).toBe(0);
    expect(r.out).toContain('dynamic launch: no\n');
    const line = /untouched \(reset values, --all prints them\): (.*)/.exec(r.out)?.[1] ?? '';
    const listed = line.split(', ').flatMap((part) => {
      const [a, b] = part.split('-').map(Number);
      return b === undefined ? [a] : Array.from({ length: b - (a ?? 0) + 1 }, (_, k) => (a ?? 0) + k);
    });
    expect(listed).toEqual(untouched);
    const all = await run('replay', logFile, '--all');
    for (let i = 17; i <= 22; i++) expect(all.out).toContain(`    ${i}: ${'f'.repeat(64)}  (untouched: reset value)`);
    for (const i of extended) expect(all.out).toMatch(new RegExp(`\\n +${i}: [0-9a-f]{64}\\n`));
  });

  it('replay --json carries untouched per bank and dynamicLaunchRecord', async () => {
    const r = await run('replay', logFile, '--json', '--all');
    const j = JSON.parse(r.out) as { untouched: Record<string, number[]>; dynamicLaunch: boolean; dynamicLaunchRecord: number | null; pcrs: Record<string, Record<string, string>> };
    expect(j.untouched).toEqual({ sha256: untouched });
    expect(j).toMatchObject({ dynamicLaunch: false, dynamicLaunchRecord: null });
    expect(j.pcrs.sha256?.['20']).toBe('f'.repeat(64));
  });

  it('verify: a quote-like expected set (upstream values + all-ones PCR 17–22) matches; untouched results say so', async () => {
    const pcrs = { sha256: { ...vector.expected.pcrs?.sha256 } as Record<string, string> };
    for (let i = 17; i <= 22; i++) pcrs.sha256[String(i)] = 'ff'.repeat(32);
    const file = join(tmp, 'quote.json');
    writeFileSync(file, JSON.stringify(pcrs));
    const r = await run('verify', logFile, '--pcrs', file);
    expect(r.code).toBe(0);
    expect(r.out).toContain('MATCH    sha256:17 (untouched)\n    note: no record extends this PCR in this bank: compared with its reset value, all ones');
    expect(r.out).toContain('MATCH    sha256:0\n');
    const json = JSON.parse((await run('verify', logFile, '--pcrs', file, '--json')).out) as { checks: { pcr: number; untouched: boolean }[] };
    expect(json.checks.filter((c) => c.untouched).map((c) => c.pcr)).toEqual([17, 18, 19, 20, 21, 22]);
  });

  it('a DRTM log: "dynamic launch: yes (record #N)"; --drtm-start ones replays the same records from all ones', async () => {
    const c = new TxtContainerLog({ size: 1024 });
    const d = createHash('sha1').update('sinit').digest();
    c.append({ pcr: 17, type: 0x402, digest: d, data: new Uint8Array(0) });
    const file = join(tmp, 'txt.bin');
    writeFileSync(file, c.bytes());
    const r = await run('replay', file, '--all');
    expect(r.out).toContain('dynamic launch: yes (record #0)\n');
    const fromZero = createHash('sha1').update(new Uint8Array(20)).update(d).digest('hex');
    expect(r.out).toContain(`    17: ${fromZero}\n`);
    expect(r.out).toContain(`    18: ${'0'.repeat(40)}  (untouched: reset value)\n`);
    const ones = await run('replay', file, '--all', '--drtm-start', 'ones');
    expect(ones.out).toContain('dynamic launch: no\n');
    expect(ones.out).toContain(`    17: ${createHash('sha1').update(new Uint8Array(20).fill(0xff)).update(d).digest('hex')}\n`);
    expect(ones.out).toContain(`    18: ${'f'.repeat(40)}  (untouched: reset value)\n`);
  });
});
