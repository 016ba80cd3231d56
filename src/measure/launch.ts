/**
 * The dynamic launch as a service operation (locality 4 is not software-writable, so
 * HASH_START/DATA/END run inside the TIS model: docs/tpm-quirks.md#locality-4), plus the synthetic
 * SINIT event that stands in for what SINIT writes into the log before Xen (which events SINIT
 * writes depends on the ACM, so we write one documented event: docs/tpm-quirks.md#sinit-events).
 */
import { MultiHasher, mustAlg, type BankName } from '../hash/index.js';
import { TXT_EVTYPE } from '../eventlog/constants.js';
import { TxtContainerLog } from '../eventlog/txt-container.js';
import type { Session } from '../sessions/session.js';
import { DYNAMIC_LAUNCH_IGNORED } from '../tis/index.js';
import { DomainError } from '../errors.js';

export const DRTM_PCR = 17;

export function dynamicLaunch(session: Session, data: Uint8Array, logEvent: boolean): { rc: number; logged: boolean } {
  const rc = session.tis.dynamicLaunch(data);
  if (rc === DYNAMIC_LAUNCH_IGNORED) {
    throw new DomainError('locality-busy', 'locality ' + String(session.tis.state().activeLocality) + ' holds the TPM, so the interface ignores the HASH_START/DATA/END cycles (see docs/tpm-quirks.md#locality-4); relinquish it first');
  }
  if (rc !== 0 || !logEvent) return { rc, logged: false };
  const h = launchHasher(session);
  h.update(data);
  return { rc, logged: appendLaunchEvent(session, h) };
}

/** A hasher over the banks the launch event records (SHA-1 for the TXT container, the log's banks for TCG2). */
export function launchHasher(session: Session): MultiHasher {
  const log = session.log;
  if (log instanceof TxtContainerLog) return new MultiHasher(['sha1']);
  const banks = log.banks.map((b) => b.algorithmId);
  return new MultiHasher(session.engine.banks().filter((b) => banks.includes(mustAlg(b).algId)) as BankName[]);
}

/**
 * The synthetic SINIT event of a dynamic launch: HASH_START type, PCR 17, the digest of the launch
 * data (what /drtm and the socket control channel's HASH_END both log). Returns whether it was logged.
 */
export function appendLaunchEvent(session: Session, hasher: MultiHasher): boolean {
  const log = session.log;
  const d = hasher.digests();
  if (log instanceof TxtContainerLog) {
    return log.append({ pcr: DRTM_PCR, type: TXT_EVTYPE.HASH_START, digest: d.get('sha1') as Uint8Array, data: new Uint8Array(0) }) !== null;
  }
  return log.append({ pcr: DRTM_PCR, type: TXT_EVTYPE.HASH_START, digests: Object.fromEntries(d), data: new Uint8Array(0) }) !== null;
}
