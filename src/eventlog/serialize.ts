/**
 * Serializer: the inverse of parse.ts. parse → serialize is byte-identical for every log the
 * parser accepts (declared sizes, padding, container gaps and trailing bytes are kept).
 */
import { LeWriter, putU32le } from '../bytes/index.js';
import type { LogEvent, ParsedLog } from './model.js';
import { TXT_CONTAINER } from './txt-container.js';

function writeEvent(w: LeWriter, e: LogEvent): void {
  w.u32(e.pcr).u32(e.type);
  if (e.layout === 'pcr-event') {
    const d = e.digests[0];
    w.bytes(d ? d.digest : new Uint8Array(20));
  } else {
    w.u32(e.digests.length);
    for (const d of e.digests) w.u16(d.algorithmId).bytes(d.digest);
  }
  w.u32(e.declaredDataSize ?? e.data.length).bytes(e.data);
}

function encodeContainerHeader(log: ParsedLog): Uint8Array {
  const h = log.container?.header;
  const b = new Uint8Array(TXT_CONTAINER.HEADER_SIZE);
  if (!h) return b;
  b.set(h.signature, TXT_CONTAINER.OFF_SIGNATURE);
  b.set(h.reserved, TXT_CONTAINER.OFF_RESERVED);
  b[TXT_CONTAINER.OFF_CONTAINER_VER_MAJOR] = h.containerVerMajor;
  b[TXT_CONTAINER.OFF_CONTAINER_VER_MINOR] = h.containerVerMinor;
  b[TXT_CONTAINER.OFF_PCR_EVENT_VER_MAJOR] = h.pcrEventVerMajor;
  b[TXT_CONTAINER.OFF_PCR_EVENT_VER_MINOR] = h.pcrEventVerMinor;
  putU32le(b, TXT_CONTAINER.OFF_CONTAINER_SIZE, h.containerSize);
  putU32le(b, TXT_CONTAINER.OFF_PCR_EVENTS_OFFSET, h.pcrEventsOffset);
  putU32le(b, TXT_CONTAINER.OFF_NEXT_EVENT_OFFSET, h.nextEventOffset);
  return b;
}

/** Serialize a parsed log back to bytes. */
export function serializeEventLog(log: ParsedLog): Uint8Array {
  const w = new LeWriter(4096);
  const events = [...log.events];
  if (log.format === 'txt-container' && log.container) {
    if (log.container.embedded) {
      const header = events.shift();
      if (header) writeEvent(w, header);
    } else {
      w.bytes(encodeContainerHeader(log));
    }
    w.bytes(log.container.gap);
  }
  for (const e of events) writeEvent(w, e);
  w.bytes(log.trailing);
  return w.finish();
}
