/**
 * TIS FIFO benchmark: the seed driver's early TPM 1.2 hash path (docs/tpm-quirks.md#seed-fifo-driver: byte-wide
 * register accesses, over-reading receive loop) in-process, against the same SHA1Start /
 * SHA1Update(1024) / SHA1CompleteExtend commands sent straight to `engine.execute`, plus the
 * careful driver's stream (maxNumBytes chunks, 4-byte FIFO accesses). Bounded: at most
 * `maxIterations` runs or `budgetMs` per path, whichever comes first.
 *
 * Standalone: `npx tsx bench/tis-fifo.ts`
 */
import { pathToFileURL } from 'node:url';
import { fifoSha1Extend, seedExtendMbi12, SEED_UPDATE_CAP, tpm12Commands } from '../src/drivers/index.js';
import { TisDevice } from '../src/tis/index.js';
import { createTpm12 } from '../src/tpm12/index.js';

export interface TisFifoBench {
  /** Seed driver through the FIFO (MiB of measured data per second). */
  fifoMiBps: number;
  /** The same commands through engine.execute. */
  directMiBps: number;
  /** Careful driver SHA-1 stream through the FIFO. */
  carefulMiBps: number;
  /** directMiBps / fifoMiBps. */
  fifoOverhead: number;
  blobBytes: number;
  iterations: { fifo: number; direct: number; careful: number };
}

export interface TisFifoBenchOptions {
  blobBytes?: number;
  maxIterations?: number;
  budgetMs?: number;
}

function measure(run: () => void, maxIterations: number, budgetMs: number): { seconds: number; iterations: number } {
  run(); // warm-up
  const start = process.hrtime.bigint();
  let iterations = 0;
  let elapsed = 0;
  while (iterations < maxIterations && elapsed < budgetMs) {
    run();
    iterations++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return { seconds: elapsed / 1000, iterations };
}

/** The seed's command sequence (docs/tpm-quirks.md#seed-chunking) sent straight to the engine. */
function directSeedPath(engine: ReturnType<typeof createTpm12>, data: Uint8Array): void {
  engine.execute(tpm12Commands.sha1Start12(), 2);
  let off = 0;
  let max: number = SEED_UPDATE_CAP;
  let remaining = data.length;
  while (remaining > 64) {
    if (remaining < max) max = remaining - (remaining % 64);
    engine.execute(tpm12Commands.sha1Update12(data.subarray(off, off + max)), 2);
    off += max;
    remaining -= max;
  }
  engine.execute(tpm12Commands.sha1CompleteExtend12(18, data.subarray(off)), 2);
}

export async function benchTisFifo(opts: TisFifoBenchOptions = {}): Promise<TisFifoBench> {
  const blobBytes = opts.blobBytes ?? 64 * 1024;
  const maxIterations = opts.maxIterations ?? 50;
  const budgetMs = opts.budgetMs ?? 1500;
  const data = Uint8Array.from({ length: blobBytes }, (_, i) => (i * 131) & 0xff);
  const mib = blobBytes / (1024 * 1024);

  const fifoDevice = new TisDevice(createTpm12({ startup: true }));
  const fifo = measure(() => void seedExtendMbi12(fifoDevice, data), maxIterations, budgetMs);
  const engine = createTpm12({ startup: true });
  const direct = measure(() => directSeedPath(engine, data), maxIterations, budgetMs);
  const carefulDevice = new TisDevice(createTpm12({ startup: true }), { profile: 'tis-1.3' });
  const careful = measure(() => void fifoSha1Extend(carefulDevice, 2, 18, [data]), maxIterations, budgetMs);

  const fifoMiBps = (mib * fifo.iterations) / fifo.seconds;
  const directMiBps = (mib * direct.iterations) / direct.seconds;
  return {
    fifoMiBps,
    directMiBps,
    carefulMiBps: (mib * careful.iterations) / careful.seconds,
    fifoOverhead: directMiBps / fifoMiBps,
    blobBytes,
    iterations: { fifo: fifo.iterations, direct: direct.iterations, careful: careful.iterations },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchTisFifo();
  console.log(JSON.stringify(r, null, 2));
}
