/**
 * swtpm as the bench's peer: the same client the differential tests use (test/support/swtpm-peer.ts).
 */
import { Swtpm } from '../../test/support/swtpm-peer.js';

export { swtpmVersion } from '../../test/support/swtpm-peer.js';

export class SwtpmPeer {
  private constructor(private readonly tpm: Swtpm) {}

  static async start(tpm2: boolean): Promise<SwtpmPeer> {
    return new SwtpmPeer(await Swtpm.start({ tpm2 }));
  }

  get pid(): number | undefined {
    return this.tpm.pid;
  }

  send(cmd: Uint8Array): Promise<Uint8Array> {
    return this.tpm.send(cmd);
  }

  async setLocality(loc: number): Promise<void> {
    const rc = await this.tpm.setLocality(loc);
    if (rc !== 0) throw new Error(`swtpm SET_LOCALITY(${loc}) rc ${rc}`);
  }

  stop(): Promise<void> {
    return this.tpm.stop();
  }
}

/**
 * Start a peer at `locality` when swtpm is installed; otherwise (or if it fails) add a note, print
 * a loud line, and return null so the row is reported as "peer unavailable".
 */
export async function startPeerOrNote(available: boolean, tpm2: boolean, locality: number, notes: string[]): Promise<SwtpmPeer | null> {
  if (!available) return null;
  try {
    const peer = await SwtpmPeer.start(tpm2);
    await peer.setLocality(locality);
    return peer;
  } catch (e) {
    notes.push(`swtpm could not be started: ${(e as Error).message}`);
    console.error(`\n!!!!! swtpm unavailable (TPM ${tpm2 ? '2.0' : '1.2'}): ${(e as Error).message} !!!!!\n`);
    return null;
  }
}
