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
