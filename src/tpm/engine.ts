/**
 * The contract every emulated TPM (TPM 1.2, TPM 2.0) fulfils. Pure domain: no HTTP, no logging.
 *
 * A TPM error is a *response* (bytes with a non-zero return code); only a broken engine throws.
 */
import type { BankName } from '../hash/index.js';

export type Locality = 0 | 1 | 2 | 3 | 4;
export const LOCALITIES: readonly Locality[] = [0, 1, 2, 3, 4];
export type TpmFamily = '1.2' | '2.0';

export function isLocality(n: number): n is Locality {
  return Number.isInteger(n) && n >= 0 && n <= 4;
}

export interface TpmEngine {
  readonly family: TpmFamily;
  /** Size of the TPM's command/response buffer (libtpms: 4096). */
  readonly bufferSize: number;
  /** Execute one raw command received at `locality`; always returns a whole response. */
  execute(command: Uint8Array, locality: Locality): Uint8Array;
  /**
   * DRTM special cycles at locality 4 (TPM 1.2: libtpms `tpm_tpm12_tis.c` TPM12_IO_Hash_*; TPM 2.0:
   * ms-tpm-20-ref `events/_TPM_Hash_*.c`). Each returns the
   * TPM return code the interface would see (0 = success), exactly as swtpm's control channel does.
   */
  hashStart(): number;
  hashData(data: Uint8Array): number;
  hashEnd(): number;
  /**
   * HASH_START then HASH_END for data whose digest per bank is known but the data is not (a
   * launch copied from a real log, whose HASH_START event holds what HASH_END extended): the same
   * PCR effects as the three cycles with such data. Optional: test doubles need not have it.
   */
  hashStartEndDigests?(digests: Partial<Record<BankName, Uint8Array>>): number;
  /** TPM's internal tpmEstablished flag (TIS ACCESS bit 0 reads its inverse, QEMU `tpm_tis_mmio_read`). */
  readonly established: boolean;
  /** TSC_ResetEstablishmentBit / PTP STS bit 25: only localities 3 and 4 may clear it. Returns rc. */
  resetEstablishment(locality: Locality): number;
  /** TPM_Init: power cycle; the next command must be Startup. */
  init(): void;
  /** Current PCR values, one array of 24 per allocated bank. */
  pcrs(): Partial<Record<BankName, Uint8Array[]>>;
  /** Allocated banks, in bank order. */
  banks(): BankName[];
  /** Whole state as plain JSON-able data (for durable session stores). */
  snapshot(): unknown;
}
