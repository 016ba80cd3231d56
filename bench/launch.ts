/**
 * Row 5: `POST /v1/launches` as a user calls it (README "Secure Launch golden values"): curl with a
 * manifest and one file part per blob — a 16 MiB kernel, a 128 MiB initrd, and two small parts (the
 * SINIT data and the MBI) — on a TPM 2.0 launch with banks sha1 + sha256, until the 200; against
 * `sha1sum` + `sha256sum` of the same files. The prediction must carry the digests the tools print.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { judge, type Row } from './lib/report.js';
import type { ServiceProcess } from './lib/server.js';
import { figure, interleaved, MiB, pairedRatio } from './lib/stats.js';
import { BlobFiles, timedRun } from './user-upload.js';

export interface LaunchRowOptions {
  kernelMiB: number;
  initrdMiB: number;
  reps: number;
  budgetMs: number;
  quick: boolean;
  profile: (id: string) => string[];
}

export async function benchLaunch(svc: ServiceProcess, o: LaunchRowOptions): Promise<Row> {
  const files = new BlobFiles();
  try {
    const kernel = files.file('vmlinuz', o.kernelMiB * MiB);
    const initrd = files.file('initrd.img', o.initrdMiB * MiB);
    const sinit = files.file('sinit.bin', 4096);
    const mbiBytes = Buffer.alloc(1536, 0x5a);
    mbiBytes.writeUInt32LE(1024, 0); // total_size
    mbiBytes.writeUInt32LE(0, 4);
    const mbi = join(files.dir, 'mbi.bin');
    writeFileSync(mbi, mbiBytes);
    const manifest = join(files.dir, 'launch.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        family: '2.0',
        banks: ['sha1', 'sha256'],
        sinit: { part: 'sinit.bin' },
        mbi: { part: 'mbi.bin' },
        entries: [
          { part: 'vmlinuz', pcr: 17, evtInfo: 'Measured MB2 module', entityType: 'multiboot2-module' },
          { part: 'initrd.img', pcr: 17, evtInfo: 'Measured MB2 module', entityType: 'multiboot2-module' },
        ],
      }),
    );
    const all = [kernel, initrd, sinit, mbi];
    const totalMiB = (o.kernelMiB + o.initrdMiB) * MiB + 4096 + 1536;
    const mib = totalMiB / MiB;
    const sums = async (): Promise<{ ms: number; want: string[] }> => {
      const a = await timedRun('sha1sum', all);
      const b = await timedRun('sha256sum', all);
      const d = (s: string): string[] => s.trim().split('\n').map((l) => l.split(/\s/)[0] ?? '');
      return { ms: a.ms + b.ms, want: [...d(a.stdout).slice(0, 2), ...d(b.stdout).slice(0, 2)] };
    };
    const { want } = await sums(); // also warms the page cache
    const url = `http://127.0.0.1:${svc.port}/v1/launches`;
    const args = ['-sS', '-o', '-', '-w', '\n%{http_code}', '-F', `manifest=<${manifest}`, '-F', `sinit.bin=@${sinit}`, '-F', `mbi.bin=@${mbi}`, '-F', `vmlinuz=@${kernel}`, '-F', `initrd.img=@${initrd}`, url];
    const ours = async (): Promise<number> => {
      const r = await timedRun('curl', args);
      const nl = r.stdout.lastIndexOf('\n');
      const status = Number(r.stdout.slice(nl + 1));
      const body = r.stdout.slice(0, nl);
      if (r.code !== 0 || status !== 200) throw new Error(`POST /v1/launches: exit ${r.code}, HTTP ${status}: ${body.slice(0, 300)}`);
      for (const hex of want) if (!body.includes(hex)) throw new Error(`the prediction lacks the digest ${hex} that sha1sum/sha256sum print`);
      return (mib * 1000) / r.ms;
    };
    const peer = async (): Promise<number> => (mib * 1000) / (await sums()).ms;
    await ours(); // warm-up
    const [a, p] = await interleaved(o.reps, o.budgetMs, [ours, peer]);
    const ratio = pairedRatio(a ?? [], p ?? []);
    const v = judge(ratio, true, { min: 1.0 });
    return {
      id: '5',
      section: 'Launch prediction from files',
      measures: `\`curl -F manifest=<launch.json -F sinit.bin=@… -F mbi.bin=@… -F vmlinuz=@… -F initrd.img=@…\` → \`POST /v1/launches\` (TPM 2.0, sha1+sha256; ${o.kernelMiB} MiB kernel + ${o.initrdMiB} MiB initrd + 4 KiB SINIT data + 1.5 KiB MBI, multipart streamed), until the 200; the prediction must hold the kernel's and initrd's sha1/sha256 as the tools print them`,
      ours: figure(a ?? [], 'MiB/s'),
      peerName: '`sha1sum FILES; sha256sum FILES` (the same four files)',
      peer: figure(p ?? [], 'MiB/s'),
      ratio,
      target: 'target: ≥ 1.0× sha1sum + sha256sum',
      verdict: o.quick && v === 'MISSED target' ? 'not judged (--quick)' : v,
      notes: [...o.profile('5')],
    };
  } finally {
    files.remove();
  }
}
