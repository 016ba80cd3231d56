/**
 * The decoded form of an event log, shared by the parser, serializer, replay, verify and CEL.
 */
import type { BankName } from '../hash/index.js';
import type { AlgorithmSize, SpecIdEvent00, SpecIdEvent03 } from './spec-id.js';
import type { TxtContainerHeader } from './txt-container.js';

/**
 * `tcg2-agile`: Spec ID Event03 header then TCG_PCR_EVENT2 records (TCG PC Client PFP).
 * `tpm12-sha1`: TCG_PCClientPCREvent records, one SHA-1 digest each (TCG PC Client 1.2 / EFI 1.22).
 * `txt-container`: Intel TXT 1.2 event container (tboot `event_log_container_t`), bare or nested in a
 * Spec ID Event00 header's vendorInfo (TrenchBoot secure-kernel-loader `event_log.c`, AMD SKINIT).
 */
export type LogFormat = 'tcg2-agile' | 'tpm12-sha1' | 'txt-container';
export const LOG_FORMATS: readonly LogFormat[] = ['tcg2-agile', 'tpm12-sha1', 'txt-container'];

export interface LogDigest {
  /** TPM_ALG_ID */
  algorithmId: number;
  /** Bank name when the hash table knows the algorithm. */
  bank: BankName | null;
  digest: Uint8Array;
}

export interface LogEvent {
  /** Index among all records of the log (header record included). */
  index: number;
  /** Byte offset of the record from the start of the input. */
  offset: number;
  /** Record length in bytes. */
  size: number;
  /** `pcr-event`: SHA-1 layout (TCG_PCR_EVENT / TPM12_PCREvent); `pcr-event2`: crypto-agile layout. */
  layout: 'pcr-event' | 'pcr-event2';
  pcr: number;
  type: number;
  digests: LogDigest[];
  /** Event data as it lies in the log (for a Spec ID header: the whole structure, see `declaredDataSize`). */
  data: Uint8Array;
  /** eventSize field when it differs from data.length (Spec ID vendorInfo past eventSize). */
  declaredDataSize?: number;
}

export interface EmbeddedContainer {
  /** Offset of the container header from the start of the input. */
  base: number;
  header: TxtContainerHeader;
  /** Bytes between the container header end and PCREventsOffset. */
  gap: Uint8Array;
  /** Nested in a Spec ID Event00 header (TrenchBoot secure-kernel-loader `event_log.c`). */
  embedded: boolean;
}

export interface ParsedLog {
  format: LogFormat;
  /** Banks of the log: the Spec ID header's list (tcg2-agile) or SHA-1 only. */
  algorithms: AlgorithmSize[];
  specId: SpecIdEvent03 | null;
  specId00: SpecIdEvent00 | null;
  container: EmbeddedContainer | null;
  /** Every record in order, header records included. */
  events: LogEvent[];
  /** Bytes after the last record (zero/0xFF padding, unused container space). */
  trailing: Uint8Array;
  warnings: string[];
}
