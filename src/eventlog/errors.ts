/**
 * Typed domain errors of the event-log module. The core never logs; it throws these.
 */

/** A log could not be decoded: where (byte offset, record index) and why. */
export class EventLogParseError extends Error {
  readonly code = 'EVENTLOG_PARSE' as const;
  /** Byte offset (from the start of the input) of the field that failed. */
  readonly offset: number;
  /** Zero-based index of the record being decoded (-1 before the first record / in a header). */
  readonly recordIndex: number;
  constructor(message: string, offset: number, recordIndex: number) {
    super(`${message} (offset ${offset}, record ${recordIndex})`);
    this.name = 'EventLogParseError';
    this.offset = offset;
    this.recordIndex = recordIndex;
  }
}
