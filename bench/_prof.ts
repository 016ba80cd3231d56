import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess } from './lib/server.js';
import { BlobFiles, curlMeasure } from './user-upload.js';
import { summariseDir } from './lib/cpuprofile.js';
const dir = mkdtempSync(join(tmpdir(), 'prof-'));
const svc = await ServiceProcess.start({}, ['--cpu-prof', '--cpu-prof-dir', dir]);
const files = new BlobFiles();
const f = files.file('b.bin', 256 * 1024 * 1024);
const fam = process.argv[2] ?? '1.2';
const id = await svc.createSession(fam === '1.2' ? { family: '1.2' } : { family: '2.0', banks: fam.split(',') });
for (let i = 0; i < 4; i++) { const r = await curlMeasure(svc, id, f, process.argv[3] === 'mp'); console.log((256000 / r.ms).toFixed(0), 'MiB/s'); }
await svc.stop(); files.remove();
await new Promise((r) => setTimeout(r, 500));
console.log(summariseDir(dir, 12).join('\n'));
