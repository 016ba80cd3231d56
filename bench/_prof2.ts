import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess } from './lib/server.js';
import { summariseDir } from './lib/cpuprofile.js';
import { httpRequest, runLoad } from './lib/loadgen.js';
import { mix12, mix2 } from './lib/commands.js';
import { sessionsRun } from './sessions.js';
const dir = mkdtempSync(join(tmpdir(), 'prof-'));
if (process.argv[2] === 'sess') {
  console.log(await sessionsRun(Number(process.argv[3] ?? 3000), ['--cpu-prof', '--cpu-prof-dir', dir]));
} else {
const svc = await ServiceProcess.start({}, ['--cpu-prof', '--cpu-prof-dir', dir]);
const fam = process.argv[2] === '2.0' ? '2.0' : '1.2';
const ids: string[] = [];
for (let i = 0; i < 64; i++) ids.push(await svc.createSession({ family: fam }));
const reqs = ids.map((id) => httpRequest('POST', `/v1/sessions/${id}/commands?locality=2`, svc.port, fam === '1.2' ? mix12.extend : mix2.pcrExtend));
for (let i = 0; i < 3; i++) console.log((await runLoad(svc.port, 64, 1e12, (_i, c) => ({ bytes: reqs[c]! }), 1500)).rate.toFixed(0), 'req/s');
await svc.stop();
}
await new Promise((r) => setTimeout(r, 500));
console.log(summariseDir(dir, 25).join('\n'));
