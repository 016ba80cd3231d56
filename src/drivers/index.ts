/**
 * FIFO drivers: the seed (Xen v1–v3) driver as a test client, the careful driver, and the
 * TPM-side hashing helpers used by `hashing=tpm` (docs/tpm-quirks.md#seed-fifo-driver).
 */
export { locReg, TisTimeoutError, TisProtocolError, type TisBus } from './bus.js';
export { SeedDriver, seedExtendMbi12, SEED_SPIN_LIMIT, SEED_EARLY_BUFFER_12, SEED_UPDATE_CAP, type SeedMeasurement12 } from './seed-driver.js';
export { CarefulDriver, type CarefulDriverOptions, type TpmExchange } from './careful-driver.js';
export { TailChunker, feedAll, feedAllAsync, type ChunkSink } from './chunker.js';
export { FifoSha1Extend, fifoSha1Extend, fifoSha1ExtendStream, type FifoSha1Options, type FifoSha1Result } from './fifo-sha1-extend.js';
export {
  FifoEventSequenceExtend,
  fifoEventSequenceExtend,
  fifoEventSequenceExtendStream,
  type FifoEventSequenceOptions,
  type FifoEventSequenceResult,
} from './fifo-event-sequence.js';
export * as tpm12Commands from './tpm12-commands.js';
export * as tpm2Commands from './tpm2-commands.js';
export type { AlgDigest } from './tpm2-commands.js';
