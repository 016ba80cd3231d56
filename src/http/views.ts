/** JSON shapes of domain objects, as openapi.yaml describes them. */
import { toHex } from '../bytes/index.js';
import { algById } from '../hash/index.js';
import { eventTypeName } from '../eventlog/constants.js';
import type { Session } from '../sessions/session.js';
import type { SessionManager } from '../sessions/manager.js';

export function sessionView(s: Session, sessions: SessionManager): Record<string, unknown> {
  return {
    id: s.id,
    family: s.family,
    banks: s.engine.banks(),
    compat: s.options.compat,
    logSize: s.options.logSize,
    startup: s.options.startup,
    tisProfile: s.options.tisProfile,
    tis: { didVid: s.tis.didVid, rid: s.tis.rid, burstMax: s.tis.burstMax },
    createdAt: new Date(s.createdAt).toISOString(),
    lastUsedAt: new Date(s.lastUsedAt).toISOString(),
    expiresAt: new Date(sessions.expiresAt(s)).toISOString(),
    // As of the last committed transaction (this view is read outside the session's turn).
    measurements: s.committed.measurements,
    extendsOutsideLog: s.committed.extendsOutsideLog,
    ...(s.options.compat === 'strict' ? { logFull: s.committed.logFull } : {}),
  };
}

export function pcrBanksView(s: Session): { banks: Record<string, string[]> } {
  const banks: Record<string, string[]> = {};
  for (const [bank, values] of Object.entries(s.engine.pcrs())) {
    if (values) banks[bank] = values.map(toHex);
  }
  return { banks };
}

/** Printable ASCII/UTF-8 text or undefined. */
export function printable(data: Uint8Array): string | undefined {
  if (data.length === 0) return '';
  // All-zero data (e.g. an EV_SEPARATOR of 00000000) is a value, not text.
  if (data.every((b) => b === 0)) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return undefined;
  }
  const trimmed = text.replace(/\0+$/, '');
  return /^[\x09\x0a\x0d\x20-\x7e\u00a0-\uffff]*$/.test(trimmed) ? trimmed : undefined;
}

export function b64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

/** Bank name of a TPM_ALG_ID, or its hex id when we do not know it. */
export function algName(algorithmId: number): string {
  return algById(algorithmId)?.name ?? `0x${algorithmId.toString(16).padStart(4, '0')}`;
}

/** `{bank: hex}` of a record's digests. */
export function digestsView(digests: readonly { algorithmId: number; digest: Uint8Array }[]): Record<string, string> {
  return Object.fromEntries(digests.map((d) => [algName(d.algorithmId), toHex(d.digest)]));
}

/** One log event as openapi.yaml's LogEvent. */
export function eventView(e: { index: number; offset: number; pcr: number; type: number; data: Uint8Array }, digests: Record<string, string>): Record<string, unknown> {
  const text = printable(e.data);
  return {
    index: e.index,
    offset: e.offset,
    pcr: e.pcr,
    type: e.type,
    typeName: eventTypeName(e.type),
    digests,
    data: b64(e.data),
    ...(text !== undefined ? { dataText: text } : {}),
  };
}
