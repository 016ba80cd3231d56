/**
 * Multi-bank hashing of a stream on worker threads, so a large upload hashes its banks in parallel
 * and off the event loop (other sessions keep being served while a 1 GiB blob is measured).
 *
 * Small streams never pay for the threads: the first `inlineBytes` are buffered and, if the stream
 * ends before that, hashed inline. Past it, every bank gets its own job on a shared, lazily started
 * pool of workers. Chunks are packed into recycled 1 MiB SharedArrayBuffers that all workers read
 * (one copy, no per-chunk allocation), and `update()` waits (backpressure) while more than
 * `maxInFlight` bytes are unacknowledged, so memory stays flat whatever the stream's length.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createHash, type Hash } from 'node:crypto';
import { MultiHasher, mustAlg, type BankName } from './index.js';

/**
 * The worker: one node:crypto Hash per (job, algorithm); plain JS so it runs under node and tsx alike.
 * A job's shared blocks are sent once ('buf'); updates name a block by number (posting a
 * SharedArrayBuffer costs far more than posting a number).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'open') jobs.set(m.job, { h: createHash(m.alg), bufs: [] });
  else if (m.op === 'buf') {
    const j = jobs.get(m.job);
    if (j) j.bufs[m.id] = m.sab;
  } else if (m.op === 'update') {
    const j = jobs.get(m.job);
    if (j) j.h.update(new Uint8Array(j.bufs[m.id], 0, m.len));
    parentPort.postMessage({ op: 'ack', job: m.job, seq: m.seq });
  } else if (m.op === 'final') {
    const j = jobs.get(m.job);
    jobs.delete(m.job);
    if (!j) return;
    const d = j.h.digest();
    parentPort.postMessage({ op: 'digest', job: m.job, digest: new Uint8Array(d.buffer, d.byteOffset, d.length) });
  } else if (m.op === 'drop') jobs.delete(m.job);
});
`;

interface WorkerMessage {
  op: 'ack' | 'digest';
  job: number;
  seq?: number;
  digest?: Uint8Array;
}

class HashPool {
  private readonly workers: Array<Worker | undefined> = [];
  readonly onExit = new Set<(w: Worker) => void>();
  private next = 0;
  private jobSeq = 0;
  readonly listeners = new Map<number, (m: WorkerMessage) => void>();

  constructor(private readonly size: number) {}

  /** A worker for a new job (round robin), started on first use. */
  take(): { worker: Worker; job: number } {
    const i = this.next++ % this.size;
    const existing = this.workers[i];
    if (existing) return { worker: existing, job: ++this.jobSeq };
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    w.on('message', (m: WorkerMessage) => this.listeners.get(m.job)?.(m));
    // A worker that dies is replaced on next use; its jobs fail instead of hanging.
    w.on('error', () => undefined);
    w.on('exit', () => {
      if (this.workers[i] === w) this.workers[i] = undefined;
      for (const f of this.onExit) f(w);
    });
    this.workers[i] = w;
    return { worker: w, job: ++this.jobSeq };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w?.terminate()));
  }
}

/** Size of the shared blocks chunks are packed into. */
const BLOCK_BYTES = 1024 * 1024;

let sharedPool: HashPool | undefined;
function pool(): HashPool {
  sharedPool ??= new HashPool(Math.max(1, Math.min(4, availableParallelism())));
  return sharedPool;
}

/** Stop the shared workers (tests, graceful shutdown). */
export async function closeHashPool(): Promise<void> {
  const p = sharedPool;
  sharedPool = undefined;
  await p?.close();
}

interface Lane {
  bank: BankName;
  worker: Worker;
  job: number;
}

export interface ParallelHasherOptions {
  /** Streams shorter than this are hashed inline (default 1 MiB). */
  inlineBytes?: number;
  /** Most unacknowledged bytes before update() waits (default 8 MiB). */
  maxInFlight?: number;
  /**
   * How many of the banks (the first ones) are hashed on the calling thread as chunks arrive
   * (default: see LOCAL_BANKS). Those skip the copy into the shared block and the messages.
   */
  localBanks?: number;
}

/**
 * Default number of banks hashed on the calling thread: the first bank is hashed where the chunks
 * arrive (no copy into a shared block, no message); the others go to the workers. Measured in
 * BENCHMARKS.md rows 1–3 (one bank on the event loop beat one bank on a worker: the copy and the
 * messages cost more than the hash with SHA-NI, and a 2-CPU machine has no core to spare).
 */
const LOCAL_BANKS = 1;

const ABORTED = new Error('hashing aborted');

export class ParallelHasher {
  private readonly inlineBytes: number;
  private readonly maxInFlight: number;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private lanes: Lane[] | undefined;
  private total = 0;
  private inFlight = 0;
  private seq = 0;
  /** block seq → acks still missing, bytes, its buffer (recycled once every lane acked) */
  private readonly outstanding = new Map<number, { left: number; bytes: number; sab: SharedArrayBuffer }>();
  private readonly free: SharedArrayBuffer[] = [];
  /** Number of every block the lanes were given ('buf' message). */
  private readonly blockIds = new Map<SharedArrayBuffer, number>();
  private block: Uint8Array | undefined;
  private blockLen = 0;
  private waiters: Array<() => void> = [];
  private readonly digestsByBank = new Map<BankName, Uint8Array>();
  private digestWaiter: (() => void) | undefined;
  private failed: Error | undefined;

  /** Banks hashed on the calling thread, and the rest (worker lanes). */
  private readonly local: Array<[BankName, Hash]>;
  private readonly banks: readonly BankName[];

  constructor(
    allBanks: readonly BankName[],
    opts: ParallelHasherOptions = {},
  ) {
    this.inlineBytes = opts.inlineBytes ?? 1024 * 1024;
    this.maxInFlight = opts.maxInFlight ?? 8 * 1024 * 1024;
    const k = Math.max(0, Math.min(allBanks.length, opts.localBanks ?? LOCAL_BANKS));
    this.local = allBanks.slice(0, k).map((b) => [b, createHash(mustAlg(b).nodeName)]);
    this.banks = allBanks.slice(k);
  }

  get bytes(): number {
    return this.total;
  }

  private readonly onWorkerExit = (w: Worker): void => {
    if (!this.lanes?.some((l) => l.worker === w)) return;
    this.failed = new Error('a hashing worker stopped');
    this.digestWaiter?.();
    const ws = this.waiters;
    this.waiters = [];
    for (const f of ws) f();
  };

  private start(): Lane[] {
    const p = pool();
    p.onExit.add(this.onWorkerExit);
    const lanes = this.banks.map((bank) => {
      const { worker, job } = p.take();
      p.listeners.set(job, (m) => this.onMessage(bank, m));
      worker.postMessage({ op: 'open', job, alg: mustAlg(bank).nodeName });
      return { bank, worker, job };
    });
    this.lanes = lanes;
    return lanes;
  }

  private onMessage(bank: BankName, m: WorkerMessage): void {
    if (m.op === 'ack' && m.seq !== undefined) {
      const o = this.outstanding.get(m.seq);
      if (o && --o.left === 0) {
        this.outstanding.delete(m.seq);
        this.inFlight -= o.bytes;
        this.free.push(o.sab);
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      }
    } else if (m.op === 'digest' && m.digest) {
      this.digestsByBank.set(bank, new Uint8Array(m.digest));
      if (this.digestsByBank.size === this.banks.length) this.digestWaiter?.();
    }
  }

  /** Copy `chunk` into the current block, sending every block that fills up. */
  private pack(lanes: Lane[], chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) {
      if (!this.block) {
        this.block = new Uint8Array(this.free.pop() ?? this.newBlock(lanes));
        this.blockLen = 0;
      }
      const n = Math.min(chunk.length - off, BLOCK_BYTES - this.blockLen);
      this.block.set(chunk.subarray(off, off + n), this.blockLen);
      this.blockLen += n;
      off += n;
      if (this.blockLen === BLOCK_BYTES) this.flush(lanes);
    }
  }

  /** A new shared block, announced to every lane once. */
  private newBlock(lanes: Lane[]): SharedArrayBuffer {
    const sab = new SharedArrayBuffer(BLOCK_BYTES);
    const id = this.blockIds.size;
    this.blockIds.set(sab, id);
    for (const l of lanes) l.worker.postMessage({ op: 'buf', job: l.job, id, sab });
    return sab;
  }

  private flush(lanes: Lane[]): void {
    if (!this.block || this.blockLen === 0) return;
    const sab = this.block.buffer as SharedArrayBuffer;
    const seq = ++this.seq;
    this.outstanding.set(seq, { left: lanes.length, bytes: this.blockLen, sab });
    this.inFlight += this.blockLen;
    const id = this.blockIds.get(sab);
    for (const l of lanes) l.worker.postMessage({ op: 'update', job: l.job, seq, id, len: this.blockLen });
    this.block = undefined;
    this.blockLen = 0;
  }

  /**
   * Feed a chunk. Returns nothing when more may be fed at once, or a promise that resolves when the
   * workers are close enough behind to take more (no promise per chunk on the common path). Throws
   * at once when the hasher was aborted or a worker failed.
   */
  update(chunk: Uint8Array): void | Promise<void> {
    if (this.failed) throw this.failed;
    this.total += chunk.length;
    for (const [, h] of this.local) h.update(chunk);
    if (this.banks.length === 0) return;
    if (!this.lanes) {
      this.pending.push(chunk.slice());
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.inlineBytes) return;
      const lanes = this.start();
      for (const c of this.pending) this.pack(lanes, c);
      this.pending = [];
      return;
    }
    this.pack(this.lanes, chunk);
    if (this.inFlight > this.maxInFlight) return this.room();
  }

  private async room(): Promise<void> {
    while (this.inFlight > this.maxInFlight && !this.failed) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failed) throw this.failed;
  }

  /** One digest per bank, once every byte fed so far is hashed. */
  async digests(): Promise<Map<BankName, Uint8Array>> {
    const local = this.local.map(([b, h]): [BankName, Uint8Array] => [b, new Uint8Array(h.digest())]);
    const remote = await this.remoteDigests();
    return new Map([...local, ...remote]);
  }

  private async remoteDigests(): Promise<Map<BankName, Uint8Array>> {
    if (this.banks.length === 0) return new Map();
    if (!this.lanes) {
      const h = new MultiHasher(this.banks);
      for (const c of this.pending) h.update(c);
      this.pending = [];
      return h.digests();
    }
    this.flush(this.lanes);
    const done = new Promise<void>((resolve) => (this.digestWaiter = resolve));
    for (const l of this.lanes) l.worker.postMessage({ op: 'final', job: l.job });
    await done;
    this.release();
    if (this.failed) throw this.failed;
    return new Map(this.banks.map((b) => [b, this.digestsByBank.get(b) as Uint8Array]));
  }

  /** Abandon the stream (an aborted upload): free the workers' state. Also called after digests(). */
  abort(): void {
    if (this.failed === ABORTED) return;
    this.failed = ABORTED; // one shared Error: a stack trace per upload costs more than the small uploads themselves
    if (this.lanes) for (const l of this.lanes) l.worker.postMessage({ op: 'drop', job: l.job });
    this.release();
    this.pending = [];
  }

  private release(): void {
    const p = sharedPool;
    if (this.lanes && p) {
      for (const l of this.lanes) p.listeners.delete(l.job);
      p.onExit.delete(this.onWorkerExit);
    }
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
