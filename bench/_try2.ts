import { sessionsRun } from './sessions.js';
import { ServiceProcess } from './lib/server.js';
import { benchConcurrency } from './concurrency.js';
import { swtpmVersion } from './lib/swtpm.js';
const what = process.argv[2];
if (what === 'sess') { for (const n of [1000, 10000]) console.log(await sessionsRun(n)); }
else {
  const svc = await ServiceProcess.start();
  try { for (const f of ['1.2', '2.0'] as const) { const r = await benchConcurrency(svc, f, swtpmVersion(), { clients: 64, reps: 3, repMs: 800, budgetMs: 20000, quick: false, profile: () => [] }); console.log(r.ours?.value, r.peer?.value, r.target, r.notes[0]); } } finally { await svc.stop(); }
}
