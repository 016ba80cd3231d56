/**
 * CLI tests: the real binary spawned with tsx on the public vectors, plus the bin launcher.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENTLOG_FIXTURE_DIR } from '../fixtures/eventlogs/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VECTORS = EVENTLOG_FIXTURE_DIR;
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const MAIN = join(ROOT, 'src/cli/main.ts');
const tmp = mkdtempSync(join(tmpdir(), 'tpm-measure-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(TSX, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const v = (name: string): string => join(VECTORS, name);

describe('tpm-measure CLI', () => {
  it('replay --json prints the replayed PCRs (exit 0)', () => {
    const r = cli('replay', v('gotpmtools-glinux-alex.bin'), '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { format: string; startupLocality: number; pcrs: Record<string, Record<string, string>> };
    expect(j.format).toBe('tcg2-agile');
    expect(j.startupLocality).toBe(3);
    expect(Object.keys(j.pcrs.sha256 ?? {})).toContain('0');
  });

  it('replay --events prints decoded events as text', () => {
    const r = cli('replay', v('tpm2tools-event-uefivar.bin'), '--events');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/EV_EFI_VARIABLE_DRIVER_CONFIG/);
    expect(r.stdout).toMatch(/SecureBoot/);
    expect(r.stdout).toMatch(/7: 3a1ea200b8fafe60c290e903c5e6443cfef67f04/);
  });

  it('replay --cel prints CEL-JSON records', () => {
    const r = cli('replay', v('tpm2tools-event.bin'), '--cel');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { recnum: number; content_type: string }[];
    expect(j.map((x) => [x.recnum, x.content_type])).toEqual([[0, 'pcclient_std']]);
  });

  it('verify: all match → exit 0 (vectors-style expected file accepted)', () => {
    const r = cli('verify', v('tpm2tools-event-postcode.bin'), '--pcrs', v('tpm2tools-event-postcode.expected.json'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/OK: 20 PCR values match/);
  });

  it('verify: mismatch → exit 1 with the mismatching PCR', () => {
    const file = join(tmp, 'wrong.json');
    writeFileSync(file, JSON.stringify({ sha256: { '7': '00'.repeat(32) } }));
    const r = cli('verify', v('tpm2tools-event-uefivar.bin'), '--pcrs', file, '--json');
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout) as { ok: boolean; checks: { bank: string; pcr: number; match: boolean; events: unknown[] }[] };
    expect(j.ok).toBe(false);
    expect(j.checks[0]).toMatchObject({ bank: 'sha256', pcr: 7, match: false });
    expect(j.checks[0]?.events.length).toBe(1);
  });

  it.each([
    ['no arguments', []],
    ['unknown command', ['frobnicate']],
    ['verify without --pcrs', ['verify', v('tpm2tools-event.bin')]],
    ['unknown format', ['replay', v('tpm2tools-event.bin'), '--format', 'tpm3']],
    ['missing file', ['replay', join(tmp, 'nope.bin')]],
    ['parse error (forced wrong format)', ['replay', v('tpm2tools-event.bin'), '--format', 'txt-container']],
    ['parse error (limit)', ['replay', v('gotpmtools-gdc-host.bin'), '--max-events', '5']],
    ['bad expected file', ['verify', v('tpm2tools-event.bin'), '--pcrs', v('README.md')]],
  ])('%s → exit 2', (_n, args) => {
    const r = cli(...args);
    expect(r.status).toBe(2);
    expect(r.stderr.length).toBeGreaterThan(0);
  });

  it('bin/tpm-measure.mjs launcher runs the CLI', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/tpm-measure.mjs'), 'replay', v('tpm2tools-event-uefiaction.bin'), '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(Object.keys((JSON.parse(r.stdout) as { pcrs: { sha1: object } }).pcrs.sha1)).toEqual(['4']);
  });
});
