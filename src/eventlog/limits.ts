/**
 * Parser limits. Every length read from a log is checked against what remains of the input and
 * against one of these caps before anything is allocated or looped over. Callers may override any
 * of them per call; the defaults are exported so a service can document and reuse them.
 */

export interface ParseLimits {
  /** Largest log accepted, in bytes (whole input). */
  readonly maxLogBytes: number;
  /** Largest number of records (header record included). */
  readonly maxEvents: number;
  /** Largest eventSize / Size of one record's data, in bytes. */
  readonly maxEventDataSize: number;
  /** Largest digests.count of one TCG_PCR_EVENT2 record, and largest numberOfAlgorithms in a Spec ID header. */
  readonly maxDigestsPerRecord: number;
  /** Largest digestSize announced for one algorithm in a Spec ID header. */
  readonly maxDigestSize: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = Object.freeze({
  maxLogBytes: 16 * 1024 * 1024,
  maxEvents: 65536,
  maxEventDataSize: 4 * 1024 * 1024,
  maxDigestsPerRecord: 16,
  maxDigestSize: 128,
});

/** Most bytes a writer buffer may have (TXT container or TCG2 log): same as the parser's cap. */
export const MAX_WRITER_LOG_BYTES = DEFAULT_PARSE_LIMITS.maxLogBytes;

export function resolveLimits(partial?: Partial<ParseLimits>): ParseLimits {
  return { ...DEFAULT_PARSE_LIMITS, ...(partial ?? {}) };
}

/**
 * A point a session log can come back to (the log writers' `mark()`): `undo()` takes back every
 * event appended and every digest overwritten since; `firstChanged()` is the index of the first
 * event appended or overwritten since (what a durable store rewrites).
 */
export interface LogPoint {
  undo(): void;
  firstChanged(): number;
}
