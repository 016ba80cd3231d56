/**
 * tpm2-tools (the real tpm2-tss swtpm TCTI) against a TPM 2.0 session's socket and against a real
 * swtpm --tpm2: the same script gives the same exit codes and output (random bytes masked) and the
 * same PCRs; afterwards the session's HTTP /pcrs equal what tpm2_pcrread printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import { describeWithSwtpm } from '../support/swtpm.js';
import { blob } from '../support/data.js';
import { randomBase, run, SwtpmTcp, type ToolResult } from '../support/swtpm-tcp.js';

type Step = { tool: string; args: string[]; mask?: (out: string) => string } | { ctrl: string[] };

function script(dir: string): Step[] {
  const small = join(dir, 'small.bin');
  const large = join(dir, 'large.bin');
  const smallData = blob(100, 7);
  writeFileSync(small, smallData);
  writeFileSync(large, blob(3000, 8));
  const t = (tool: string, ...args: string[]): Step => ({ tool, args });
  return [
    t('tpm2_startup', '-c'),
    t('tpm2_pcrread'),
    t('tpm2_pcrextend', `16:sha1=${'11'.repeat(20)},sha256=${'22'.repeat(32)}`),
    t('tpm2_pcrextend', `23:sha256=${'33'.repeat(32)}`),
    // tpm2-tools 5.4 runs PCR_Event and PCR_Allocate in an unbound, unsalted HMAC session (SHA-256):
    // TPM2_StartAuthSession, the command with its HMAC, the response HMAC checked by ESYS, FlushContext.
    t('tpm2_pcrevent', small, '16'),
    t('tpm2_pcrevent', large),
    t('tpm2_pcrread', 'sha1:16,23+sha256:16,23+sha384:16,23'),
    t('tpm2_pcrreset', '16'),
    t('tpm2_pcrreset', '17'), // not resettable at locality 0: both fail the same way
    t('tpm2_pcrread', 'sha1:16,17+sha256:16,17'),
    { tool: 'tpm2_getrandom', args: ['--hex', '16'], mask: (o) => o.replace(/[0-9a-f]/g, 'x') },
    t('tpm2_hash', '-g', 'sha256', '--hex', small),
    t('tpm2_hash', '-g', 'sha1', '--hex', large),
    t('tpm2_getcap', 'pcrs'),
    t('tpm2_getcap', 'algorithms'),
    // TPM2_PT_TOTAL_COMMANDS / LIBRARY_COMMANDS count the implemented commands: ours are fewer
    // (README, "Supported TPM commands"); every other fixed property must be equal.
    { tool: 'tpm2_getcap', args: ['properties-fixed'], mask: (o) => o.replace(/(TPM2_PT_(TOTAL|LIBRARY)_COMMANDS:\n\s+raw: )0x[0-9A-F]+/g, '$1<count>') },
    t('tpm2_selftest'),
    t('tpm2_selftest', '--fulltest'),
    t('tpm2_pcrallocate', 'sha1:all+sha256:all'),
    t('tpm2_getcap', 'pcrs'),
    t('tpm2_shutdown', '-c'),
    { ctrl: ['-i'] }, // the restart: TPM_Init through the control channel
    t('tpm2_startup', '-c'),
    t('tpm2_getcap', 'pcrs'),
    t('tpm2_pcrextend', `16:sha1=${'44'.repeat(20)},sha256=${'55'.repeat(32)}`),
    t('tpm2_pcrread'),
    t('tpm2_pcrevent', small, '16'),
    t('tpm2_pcrallocate', 'sha256:all'),
    t('tpm2_pcrread'),
    t('tpm2_shutdown', '-c'), // Shutdown(STATE) is refused after PCR_Allocate
    { ctrl: ['-i'] },
    t('tpm2_startup', '-c'),
    t('tpm2_getcap', 'pcrs'),
    t('tpm2_pcrevent', small, '23'),
    t('tpm2_pcrread'),
    t('tpm2_shutdown'),
  ];
}

async function runAll(steps: Step[], dataPort: number): Promise<ToolResult[]> {
  const out: ToolResult[] = [];
  const env = { TPM2TOOLS_TCTI: `swtpm:host=127.0.0.1,port=${dataPort}` };
  for (const s of steps) {
    if ('ctrl' in s) {
      out.push(await run('swtpm_ioctl', ['--tcp', `127.0.0.1:${dataPort + 1}`, ...s.ctrl]));
      continue;
    }
    const r = await run(s.tool, s.args, { env });
    if (s.mask) r.stdout = s.mask(r.stdout);
    out.push(r);
  }
  return out;
}

/** tpm2_pcrread's YAML-ish output → {bank: {pcr: hex}}. */
function parsePcrread(text: string): Record<string, Record<number, string>> {
  const out: Record<string, Record<number, string>> = {};
  let bank = '';
  for (const line of text.split('\n')) {
    const b = /^\s{2}(\w+):\s*$/.exec(line);
    if (b) {
      bank = b[1] as string;
      out[bank] = {};
      continue;
    }
    const v = /^\s+(\d+)\s*:\s*0x([0-9A-F]+)/.exec(line);
    if (v && bank) (out[bank] as Record<number, string>)[Number(v[1])] = (v[2] as string).toLowerCase();
  }
  // A bank listed without PCRs is not allocated.
  return Object.fromEntries(Object.entries(out).filter(([, pcrs]) => Object.keys(pcrs).length > 0));
}

describeWithSwtpm('tpm2-tools over the swtpm TCTI: session socket vs swtpm', () => {
  let srv: TestServer;
  let dir: string;
  const base = randomBase(20000, 29900, 100);
  beforeAll(async () => {
    srv = await startServer({ socketPortRange: [base, base + 99] });
    dir = mkdtempSync(join(tmpdir(), 'tpm2-tools-'));
  });
  afterAll(async () => {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the same script gives the same exit codes, output and PCRs; /pcrs equal tpm2_pcrread', async () => {
    const steps = script(dir);
    const peer = await SwtpmTcp.start({ tpm2: true, ports: [30000, 39000] });
    let theirs: ToolResult[];
    try {
      theirs = await runAll(steps, peer.dataPort);
    } finally {
      await peer.stop();
    }

    // A session as a fresh swtpm --tpm2 is: four SHA banks, no Startup yet.
    const { data: s } = await srv.client.POST('/v1/sessions', { body: { family: '2.0', startup: false, banks: ['sha1', 'sha256', 'sha384', 'sha512'] } });
    const id = s!.id;
    const sock = (await (await srv.fetch(`/v1/sessions/${id}/socket`, { method: 'POST' })).json()) as { dataPort: number };
    const ours = await runAll(steps, sock.dataPort);

    const label = (i: number) => {
      const st = steps[i] as Step;
      return 'ctrl' in st ? `swtpm_ioctl ${st.ctrl.join(' ')}` : `${st.tool} ${st.args.join(' ')}`;
    };
    const mismatches = ours.flatMap((o, i) => {
      const t = theirs[i] as ToolResult;
      return (o.code === t.code && o.stdout === t.stdout && o.stderr === t.stderr) ? [] : [{ step: label(i), ours: o, swtpm: t }];
    });
    expect(mismatches).toEqual([]);
    // Every step succeeded except the PCR 17 reset at locality 0 (both refuse it).
    expect(ours.map((o, i) => (o.code === 0 ? null : label(i))).filter((x) => x !== null)).toEqual(['tpm2_pcrreset 17']);

    // The session's PCRs over HTTP equal the last tpm2_pcrread.
    const last = steps.map((st, i) => ('tool' in st && st.tool === 'tpm2_pcrread' ? i : -1)).filter((i) => i >= 0).pop() as number;
    expect((ours[last] as ToolResult).stdout).toBe((theirs[last] as ToolResult).stdout);
    const printed = parsePcrread((ours[last] as ToolResult).stdout);
    const http = (await (await srv.fetch(`/v1/sessions/${id}/pcrs`)).json()) as { banks: Record<string, string[]> };
    expect(Object.keys(printed).sort()).toEqual(Object.keys(http.banks).sort());
    for (const [bank, values] of Object.entries(http.banks)) {
      expect(Object.keys(printed[bank] ?? {})).toHaveLength(24);
      values.forEach((v, i) => expect(printed[bank]?.[i], `${bank}[${i}]`).toBe(v));
    }
    // Extends over the socket are in no log; the session says how many there were.
    const view = (await (await srv.fetch(`/v1/sessions/${id}`)).json()) as { extendsOutsideLog: number };
    expect(view.extendsOutsideLog).toBe(6); // 3 × tpm2_pcrextend, 3 × tpm2_pcrevent to a PCR (the one without a PCR extends none)
    expect(srv.violations).toEqual([]);
  });
});
