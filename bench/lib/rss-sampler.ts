/**
 * Samples another process's VmRSS from /proc/<pid>/status every `intervalMs` in a worker thread,
 * so that sampling keeps its pace while the main thread is busy generating and sending an upload.
 */
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
let max = 0, samples = 0;
const t = setInterval(() => {
  try {
    const m = /^VmRSS:\\s+(\\d+) kB/m.exec(readFileSync('/proc/' + workerData.pid + '/status', 'utf8'));
    if (m) { max = Math.max(max, Number(m[1]) * 1024); samples++; }
  } catch {}
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(t); parentPort.postMessage({ max, samples }); });
`;

export class RssSampler {
  private readonly worker: Worker;
  constructor(pid: number, intervalMs = 50) {
    this.worker = new Worker(WORKER, { eval: true, workerData: { pid, intervalMs } });
  }

  /** Stop sampling; resolves with the largest VmRSS seen (bytes) and the number of samples. */
  async stop(): Promise<{ max: number; samples: number }> {
    const r = await new Promise<{ max: number; samples: number }>((resolve, reject) => {
      this.worker.once('message', (m: { max: number; samples: number }) => resolve(m));
      this.worker.once('error', reject);
      this.worker.postMessage('stop');
    });
    await this.worker.terminate();
    return r;
  }
}
