/**
 * Keeps the CLI examples in docs/replay-verify.md honest: each ```text block under "Command line"
 * is the (trimmed) output of one invocation on the public vector tpm2tools-event-sd-boot-fedora37;
 * every line shown there (other than "..." elisions) must appear in the real output, and the
 * shown exit code must be the real one.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { EVENTLOG_FIXTURE_DIR } from '../fixtures/eventlogs/index.js';

const DOC = readFileSync(fileURLToPath(new URL('../../docs/replay-verify.md', import.meta.url)), 'utf8');
const VECTORS = EVENTLOG_FIXTURE_DIR;
const NAME = 'tpm2tools-event-sd-boot-fedora37';

const tmp = mkdtempSync(join(tmpdir(), 'tpm-measure-doc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const log = new Uint8Array(readFileSync(join(VECTORS, `${NAME}.bin`)));
const expected = (JSON.parse(readFileSync(join(VECTORS, `${NAME}.expected.json`), 'utf8')) as { pcrs: unknown }).pcrs;
const tampered = log.slice();
// As the doc says: one bit of the SHA-256 digest of record #26 (offset 2442; digest at +14).
tampered[2442 + 14] = (tampered[2442 + 14] ?? 0) ^ 0x01;
const files = {
  'log.bin': log,
  'tampered.bin': tampered,
  'trunc.bin': log.subarray(0, 100),
  'expected.json': new TextEncoder().encode(JSON.stringify(expected)),
};
for (const [f, b] of Object.entries(files)) writeFileSync(join(tmp, f), b);

async function run(argv: string[]): Promise<{ code: number; output: string }> {
  let output = '';
  const io = { out: (s: string) => void (output += s), err: (s: string) => void (output += s) };
  const code = await main(argv.map((a) => (a in files ? join(tmp, a) : a)), io);
  return { code, output };
}

/** The ```text blocks of the "Command line" section, in order. */
function cliBlocks(): string[][] {
  const section = DOC.slice(DOC.indexOf('## Command line'));
  return [...section.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => (m[1] ?? '').split('\n').filter((l) => l.trim() !== ''));
}

const invocations: [string, string[]][] = [
  ['replay log.bin', ['replay', 'log.bin']],
  ['verify log.bin --pcrs expected.json', ['verify', 'log.bin', '--pcrs', 'expected.json']],
  ['verify tampered.bin --pcrs expected.json', ['verify', 'tampered.bin', '--pcrs', 'expected.json']],
  ['replay trunc.bin', ['replay', 'trunc.bin']],
];

describe('docs/replay-verify.md CLI examples match the real CLI', () => {
  it('the doc has one output block per documented invocation', () => {
    expect(cliBlocks()).toHaveLength(invocations.length);
    for (const [cmd] of invocations) expect(DOC).toContain(`npx tpm-measure ${cmd}`);
  });

  it.each(invocations.map(([name, argv], i) => [name, argv, i] as const))('%s', async (_name, argv, i) => {
    const block = cliBlocks()[i] ?? [];
    const { code, output } = await run(argv);
    const actual = output.split('\n');
    for (const line of block) {
      if (line.trim() === '...' || line.startsWith('$ ')) continue;
      const exit = /^exit=(\d+)$/.exec(line);
      if (exit) {
        expect(code).toBe(Number(exit[1]));
        continue;
      }
      expect(actual, `doc line not in the output: ${line}`).toContain(line);
    }
  });
});
