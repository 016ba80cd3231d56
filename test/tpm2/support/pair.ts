/**
 * A differential pair: the engine under test and a fresh swtpm (reference peer) fed the same
 * stream — commands at a locality and control-channel operations — with every answer compared
 * byte for byte. GetRandom compares header and size only; hash-check tickets (keyed with each
 * TPM's secret hierarchy proof) compare all but the HMAC bytes.
 */
import { bytesEqual, toHex, u16be, u32be } from '../../../src/bytes/index.js';
import { HASH_ALGS, type BankName } from '../../../src/hash/index.js';
import type { Locality } from '../../../src/tpm/engine.js';
import { createTpm2, type Tpm2Engine } from '../../../src/tpm2/index.js';
import { Swtpm } from '../../support/swtpm.js';
import { CC, pcrAllocate, shutdown, startup, type Sel } from './cmd.js';

export type Op =
  | { op: 'cmd'; bytes: Uint8Array; locality: Locality }
  | { op: 'hashStart' }
  | { op: 'hashData'; data: Uint8Array }
  | { op: 'hashEnd' }
  | { op: 'init' }
  | { op: 'resetEstablished'; locality: Locality }
  | { op: 'getEstablished' };

export interface Mismatch {
  step: number;
  what: string;
  ours: string;
  theirs: string;
}

/** Mask what legitimately differs between two TPMs: random bytes and ticket HMACs. */
export function comparable(command: Uint8Array, response: Uint8Array): Uint8Array {
  const out = response.slice();
  if (response.length <= 10 || u32be(response, 6) !== 0) return out;
  const cc = u32be(command, 6);
  if (cc === CC.GetRandom) return out.subarray(0, 12); // header + TPM2B size
  if (cc === CC.Hash || cc === CC.SequenceComplete) {
    // ... | TPMT_TK_HASHCHECK = tag u16, hierarchy u32, digest TPM2B [| sessions]
    const tail = u16be(command, 0) === 0x8002 ? 5 : 0;
    const end = out.length - tail;
    // find the ticket digest size: it's the last TPM2B before the sessions
    for (let n = 0; n <= 64; n++) {
      const at = end - n - 2;
      if (at >= 0 && u16be(out, at) === n && u16be(out, at - 6) === 0x8024) {
        out.fill(0, at + 2, end);
        break;
      }
    }
  }
  return out;
}

export class Pair {
  private loc: Locality = 0;
  readonly mismatches: Mismatch[] = [];
  compared = 0;
  step = 0;
  private constructor(
    readonly engine: Tpm2Engine,
    readonly peer: Swtpm,
  ) {}

  /**
   * Without `banks`: default engine vs fresh swtpm. With `banks`: createTpm2({ banks }) vs a swtpm
   * brought to the same allocation by PCR_Allocate + Shutdown + init + Startup (not compared).
   */
  static async start(banks?: BankName[]): Promise<Pair> {
    const peer = await Swtpm.start({ tpm2: true });
    if (!banks) return new Pair(createTpm2(), peer);
    const want = new Set(banks);
    const sels = HASH_ALGS.filter((a) => a.name !== 'sm3_256').map((a) => ({ hash: a.algId, bits: want.has(a.name) ? Uint8Array.of(0xff, 0xff, 0xff) : new Uint8Array(3) }));
    for (const c of [pcrAllocate(sels), shutdown(0)]) await peer.send(c);
    await peer.init();
    await peer.send(startup(0));
    return new Pair(createTpm2({ banks }), peer);
  }

  async stop(): Promise<void> {
    await this.peer.stop();
  }

  private record(what: string, ours: string, theirs: string): void {
    this.mismatches.push({ step: this.step, what, ours, theirs });
  }

  /** Send one command to both; returns the engine's response. */
  async send(bytes: Uint8Array, locality: Locality = 0): Promise<Uint8Array> {
    if (locality !== this.loc) {
      const rc = await this.peer.setLocality(locality);
      if (rc !== 0) throw new Error(`swtpm setLocality(${locality}) rc ${rc}`);
      this.loc = locality;
    }
    const ours = this.engine.execute(bytes, locality);
    const theirs = await this.peer.send(bytes);
    this.compared++;
    if (!bytesEqual(comparable(bytes, ours), comparable(bytes, theirs))) this.record(`cmd ${toHex(bytes)} @${locality}`, toHex(ours), toHex(theirs));
    return ours;
  }

  private async ctrl(what: string, ours: number | boolean, theirs: Promise<number | boolean>): Promise<void> {
    const t = await theirs;
    this.compared++;
    if (ours !== t) this.record(what, String(ours), String(t));
  }

  async apply(o: Op): Promise<void> {
    this.step++;
    switch (o.op) {
      case 'cmd':
        await this.send(o.bytes, o.locality);
        return;
      case 'hashStart':
        return this.ctrl('hashStart', this.engine.hashStart(), this.peer.hashStart());
      case 'hashData':
        return this.ctrl(`hashData ${toHex(o.data).slice(0, 64)}`, this.engine.hashData(o.data), this.peer.hashData(o.data));
      case 'hashEnd':
        return this.ctrl('hashEnd', this.engine.hashEnd(), this.peer.hashEnd());
      case 'init':
        this.engine.init();
        return this.ctrl('init', 0, this.peer.init());
      case 'resetEstablished':
        return this.ctrl(`resetEstablished(${o.locality})`, this.engine.resetEstablishment(o.locality), this.peer.resetEstablished(o.locality));
      case 'getEstablished':
        return this.ctrl('getEstablished', this.engine.established, this.peer.getEstablished());
    }
  }

  /** Re-allocate banks on both sides: PCR_Allocate, Shutdown(CLEAR), init, Startup(CLEAR) (Part 3 §22.5 TPM2_PCR_Allocate). */
  async reallocate(sels: Sel[]): Promise<void> {
    await this.apply({ op: 'cmd', bytes: pcrAllocate(sels), locality: 0 });
    await this.apply({ op: 'cmd', bytes: shutdown(0), locality: 0 });
    await this.apply({ op: 'init' });
    await this.apply({ op: 'cmd', bytes: startup(0), locality: 0 });
  }

  report(seed: number | string): string {
    return this.mismatches
      .slice(0, 5)
      .map((m) => `seed ${seed} step ${m.step}: ${m.what}\n  ours:   ${m.ours}\n  swtpm:  ${m.theirs}`)
      .join('\n');
  }
}
