/**
 * Profiles behind the notes in BENCHMARKS.md (bench/profile-notes.ts): the built server under
 * `node --cpu-prof` (or `--heap-prof`) running one row's workload, then the self time of its
 * hungriest functions per thread (or the allocation sites of what is still live at the end).
 *
 *   npx tsx bench/profile.ts upload [1.2|sha256|sha1,sha256,sha384,sha512] [multipart]
 *   npx tsx bench/profile.ts commands [1.2|2.0]
 *   npx tsx bench/profile.ts create
 *   npx tsx bench/profile.ts sessions [N] [heap]
 *
 * Run `npm run build` first. Bounded: a few seconds of load per workload.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mix12, mix2 } from './lib/commands.js';
import { summariseDir, summariseHeapDir, summariseInclusive } from './lib/cpuprofile.js';
import { httpRequest, runLoad } from './lib/loadgen.js';
import { ServiceProcess } from './lib/server.js';
import { MiB } from './lib/stats.js';
import { sessionsRun } from './sessions.js';
import { BlobFiles, curlMeasure } from './user-upload.js';

const [what = 'upload', arg1, arg2] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'tpm-measure-prof-'));
const heap = arg2 === 'heap' || arg1 === 'heap';
const flags = heap ? ['--heap-prof', '--heap-prof-dir', dir] : ['--cpu-prof', '--cpu-prof-dir', dir];
try {
  if (what === 'sessions') {
    console.log(await sessionsRun(Number(arg1 && arg1 !== 'heap' ? arg1 : 10_000), flags));
  } else {
    const svc = await ServiceProcess.start({ MAX_SESSIONS: '50000', ...(process.env.PROFILE_STORE ? { STORE: process.env.PROFILE_STORE } : {}) }, flags);
    try {
      if (what === 'upload') {
        const files = new BlobFiles();
        try {
          const f = files.file('blob.bin', 256 * MiB);
          const banks = arg1 && arg1 !== '1.2' ? arg1.split(',') : null;
          const id = await svc.createSession(banks ? { family: '2.0', banks } : { family: '1.2' });
          for (let i = 0; i < 4; i++) console.log(`${((256 * 1000) / (await curlMeasure(svc, id, f, arg2 === 'multipart')).ms).toFixed(0)} MiB/s`);
        } finally {
          files.remove();
        }
      } else if (what === 'commands') {
        const fam = arg1 === '2.0' ? '2.0' : '1.2';
        const ids: string[] = [];
        for (let i = 0; i < 64; i++) ids.push(await svc.createSession({ family: fam }));
        const reqs = ids.map((id) => httpRequest('POST', `/v1/sessions/${id}/commands?locality=2`, svc.port, fam === '1.2' ? mix12.extend : mix2.pcrExtend));
        for (let i = 0; i < 3; i++) console.log(`${(await runLoad(svc.port, 64, Number.MAX_SAFE_INTEGER, (_i, c) => ({ bytes: reqs[c] as Buffer }), 1500)).rate.toFixed(0)} req/s`);
      } else if (what === 'create') {
        const b = ['{"family":"1.2"}', '{"family":"2.0"}'].map((x) => httpRequest('POST', '/v1/sessions', svc.port, Buffer.from(x), 'application/json'));
        for (let i = 0; i < 4; i++) console.log(`${(await runLoad(svc.port, 32, 5000, (k) => ({ bytes: b[k & 1] as Buffer }))).rate.toFixed(0)} sessions/s`);
      } else throw new Error(`unknown workload ${what}`);
    } finally {
      await svc.stop();
    }
  }
  await new Promise((r) => setTimeout(r, 500));
  console.log((heap ? summariseHeapDir(dir, 20) : [...summariseDir(dir, 20), ...summariseInclusive(dir, 30)]).join('\n'));
} finally {
  if (process.env.PROFILE_KEEP) console.log(`profiles kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
