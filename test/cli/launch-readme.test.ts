/**
 * Keeps README "Secure Launch golden values in one call" honest: the sample blobs made by
 * scripts/sample-launch.mjs, fed to `tpm-measure predict`, print exactly the ```text blocks shown
 * there, and the curl example's PCR values are the prediction's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SECTION = README.slice(README.indexOf('## Secure Launch golden values'), README.indexOf('## Replaying and verifying event logs'));
const dir = mkdtempSync(join(tmpdir(), 'sample-launch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (out += s) });
  return { code, out };
}

describe('README Secure Launch example', () => {
  it('the sample script writes the blobs and manifests deterministically', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/sample-launch.mjs'), dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'launch.json'), 'utf8')) as { entries: unknown[] };
    expect(m.entries).toHaveLength(3);
  });

  it('each shown output block is the real output', async () => {
    const blocks = [...SECTION.matchAll(/```text\n([\s\S]*?)```/g)].map((x) => (x[1] ?? '').trimEnd());
    expect(blocks).toHaveLength(2);
    const predict = await run(['predict', '--manifest', join(dir, 'launch.json')]);
    expect(predict.code).toBe(0);
    expect(predict.out.trimEnd()).toBe(blocks[0]);
    const keylime = await run(['predict', '--manifest', join(dir, 'launch-update.json'), '--export', 'keylime', '--bank', 'sha256']);
    expect(keylime.code).toBe(0);
    expect(keylime.out.trimEnd()).toBe(blocks[1]);
    // The curl example's answer is the same prediction.
    const json = await run(['predict', '--manifest', join(dir, 'launch.json'), '--json']);
    const shown = /jq -c \.pcrs\.sha256\n# (\{.*\})/.exec(SECTION)?.[1];
    expect(JSON.parse(shown ?? 'null')).toEqual((JSON.parse(json.out) as { pcrs: { sha256: unknown } }).pcrs.sha256);
  });

  it('predict --export pcrlock / policy-pcr and --log', async () => {
    const json = JSON.parse((await run(['predict', '--manifest', join(dir, 'launch.json'), '--json'])).out) as { log: { base64: string }; steps: { extended?: boolean }[] };
    const pcrlock = JSON.parse((await run(['predict', '--manifest', join(dir, 'launch.json'), '--export', 'pcrlock'])).out) as { records: unknown[] };
    expect(pcrlock.records).toHaveLength(json.steps.filter((s) => s.extended).length);
    const variants = JSON.parse((await run(['predict', '--manifest', join(dir, 'launch-update.json'), '--export', 'pcrlock'])).out) as unknown[];
    expect(variants).toHaveLength(2);
    const policy = JSON.parse((await run(['predict', '--manifest', join(dir, 'launch-update.json'), '--export', 'policy-pcr', '--pcrs', '17'])).out) as { pcrs: number[]; policies: unknown[] };
    expect(policy.pcrs).toEqual([17]);
    expect(policy.policies).toHaveLength(2);
    const logFile = join(dir, 'out.log');
    expect((await run(['predict', '--manifest', join(dir, 'launch.json'), '--log', logFile])).code).toBe(0);
    expect(readFileSync(logFile).toString('base64')).toBe(json.log.base64);
    expect((await run(['predict', '--manifest', join(dir, 'launch-update.json'), '--log', logFile])).code).toBe(2);
    expect((await run(['predict', '--manifest', join(dir, 'launch.json'), '--export', 'yaml'])).code).toBe(2);
  });

  it('predict: usage and missing parts fail with exit 2', async () => {
    expect((await run(['predict'])).code).toBe(2);
    const r = await run(['predict', '--manifest', join(dir, 'launch.json'), '--dir', tmpdir() + '/nonexistent-dir']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/ENOENT|no such file/);
  });
});
