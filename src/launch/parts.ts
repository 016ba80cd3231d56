/**
 * Receiving a launch's parts before the launch runs, so no network wait happens inside a session's
 * turn. Each part is read once, as it arrives: parts that are host-hashed (policy entries) are hashed
 * per bank then and there (once, whatever the number of entries that name them) and never kept;
 * only what the TPM itself must see is buffered, within the configured limits: the MBI's first
 * `total_size` bytes, the SINIT data, a SINIT log, the SLRT INTEL_INFO entry.
 */
import type { BankName } from '../hash/index.js';
import { ParallelHasher } from '../hash/parallel.js';
import { DomainError } from '../errors.js';
import { partSlots, type LaunchManifest } from './manifest.js';

export interface PartLimits {
  /** Largest part (MAX_UPLOAD_BYTES). */
  maxUploadBytes: number;
  /** Largest MBI `total_size` (MAX_TPM_HASHING_BYTES): those bytes go through the TPM's own hash. */
  maxTpmHashingBytes: number;
  /** Largest SINIT data (MAX_DRTM_BYTES). */
  maxDrtmBytes: number;
  /** Largest SINIT log (MAX_EVENT_LOG_BYTES). */
  maxEventLogBytes: number;
}

/** Largest SLRT INTEL_INFO part kept (the entry is 552 or 560 bytes; anything larger is refused later). */
export const MAX_INTEL_INFO_BYTES = 4096;

export interface PartData {
  name: string;
  size: number;
  /** Host digests per bank (parts used by policy entries). */
  digests?: Map<BankName, Uint8Array>;
  /** Kept bytes: the whole part, or for an MBI-only part its first `total_size` bytes. */
  bytes?: Uint8Array;
  /** The whole part was kept (bytes.length === size). */
  whole: boolean;
}

interface Need {
  fields: string[];
  hash: boolean;
  /** Keep the whole part, up to this many bytes (0: not needed). */
  keepAll: number;
  keepAllWhat: string;
  mbi: boolean;
}

export class PartCollector {
  private readonly needs = new Map<string, Need>();
  private readonly got = new Map<string, PartData>();
  private readonly active = new Set<ParallelHasher>();

  constructor(
    manifest: LaunchManifest,
    private readonly banks: readonly BankName[],
    private readonly limits: PartLimits,
  ) {
    for (const slot of partSlots(manifest)) {
      for (const name of slot.ref) {
        const n = this.needs.get(name) ?? { fields: [], hash: false, keepAll: 0, keepAllWhat: '', mbi: false };
        n.fields.push(slot.field);
        const keep = (limit: number, what: string): void => {
          if (n.keepAll === 0 || limit < n.keepAll) {
            n.keepAll = limit;
            n.keepAllWhat = what;
          }
        };
        if (slot.role === 'entry') n.hash = true;
        else if (slot.role === 'mbi') n.mbi = true;
        else if (slot.role === 'sinit') keep(limits.maxDrtmBytes, 'MAX_DRTM_BYTES');
        else if (slot.role === 'log') keep(limits.maxEventLogBytes, 'MAX_EVENT_LOG_BYTES');
        else keep(MAX_INTEL_INFO_BYTES, 'the INTEL_INFO entry size');
        this.needs.set(name, n);
      }
    }
  }

  /** Names the manifest refers to. */
  get expected(): string[] {
    return [...this.needs.keys()];
  }

  /** Whether a part of this name is still awaited (for callers that check before streaming). */
  check(name: string): void {
    if (!this.needs.has(name)) {
      throw new DomainError('invalid-request', `part ${JSON.stringify(name)} is not used by the manifest (it names: ${this.expected.join(', ') || 'none'})`, { field: name });
    }
    if (this.got.has(name)) throw new DomainError('invalid-request', `part ${JSON.stringify(name)} is given twice`, { field: name });
  }

  /** Read one part to its end. */
  async add(name: string, chunks: AsyncIterable<Uint8Array>): Promise<PartData> {
    this.check(name);
    const need = this.needs.get(name) as Need;
    const hasher = need.hash ? new ParallelHasher(this.banks) : undefined;
    if (hasher) this.active.add(hasher);
    const kept: Uint8Array[] = [];
    let keptBytes = 0;
    let size = 0;
    let head = new Uint8Array(0);
    // MBI-only parts keep the first total_size bytes (known once 4 bytes arrived).
    let mbiKeep = need.keepAll > 0 ? -1 : need.mbi ? this.limits.maxTpmHashingBytes : 0;
    try {
      for await (const chunk of chunks) {
        size += chunk.length;
        if (size > this.limits.maxUploadBytes) throw new DomainError('payload-too-large', `part ${name} is larger than the limit of ${this.limits.maxUploadBytes} bytes (MAX_UPLOAD_BYTES)`, { limit: this.limits.maxUploadBytes });
        if (hasher) await hasher.update(chunk);
        if (need.keepAll > 0) {
          if (size > need.keepAll) throw new DomainError('payload-too-large', `part ${name} is larger than ${need.keepAll} bytes (${need.keepAllWhat}) for ${need.fields.join(', ')}`, { limit: need.keepAll });
          kept.push(chunk.slice());
          keptBytes += chunk.length;
        } else if (mbiKeep > 0 || (need.mbi && head.length < 4)) {
          if (head.length < 4) {
            const h = new Uint8Array(Math.min(4, head.length + chunk.length));
            h.set(head);
            h.set(chunk.subarray(0, h.length - head.length), head.length);
            head = h;
            if (head.length === 4) {
              const total = new DataView(head.buffer).getUint32(0, true);
              if (total > this.limits.maxTpmHashingBytes) {
                throw new DomainError('payload-too-large', `the MBI ${name} declares total_size ${total}, above MAX_TPM_HASHING_BYTES (${this.limits.maxTpmHashingBytes}): the TPM hashes those bytes itself`, { limit: this.limits.maxTpmHashingBytes, field: 'mbi.part' });
              }
              mbiKeep = total;
            }
          }
          const take = Math.min(chunk.length, Math.max(0, mbiKeep - keptBytes));
          if (take > 0) {
            kept.push(chunk.slice(0, take));
            keptBytes += take;
          }
        }
      }
      const data: PartData = { name, size, whole: keptBytes === size };
      if (kept.length > 0 || need.keepAll > 0 || need.mbi) data.bytes = Buffer.concat(kept);
      if (hasher) data.digests = await hasher.digests();
      this.got.set(name, data);
      return data;
    } catch (e) {
      hasher?.abort();
      throw e;
    } finally {
      if (hasher) this.active.delete(hasher);
    }
  }

  /** Every part the manifest names arrived; returns them by name. */
  finish(): Map<string, PartData> {
    for (const [name, need] of this.needs) {
      if (!this.got.has(name)) throw new DomainError('invalid-request', `part ${JSON.stringify(name)} named by ${need.fields.join(', ')} is missing`, { field: need.fields[0] });
    }
    return new Map(this.got);
  }

  /** Give up (aborted upload): stop any hashing in flight. */
  abort(): void {
    for (const h of this.active) h.abort();
    this.active.clear();
  }
}

/** Parts given inline (JSON body: {name: base64}) through the same collector. */
export async function collectInline(collector: PartCollector, parts: Record<string, Uint8Array>): Promise<Map<string, PartData>> {
  for (const [name, bytes] of Object.entries(parts)) {
    await collector.add(name, (async function* () {
      yield bytes;
    })());
  }
  return collector.finish();
}
