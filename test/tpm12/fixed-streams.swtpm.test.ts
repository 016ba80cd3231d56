/**
 * Fixed TPM 1.2 streams replayed on the engine and on swtpm 0.7.1/libtpms 0.9.2, compared byte for
 * byte. swtpm is the truth; where it disagrees with a reading of the specification the stream
 * comment says so (see also spec-vs-swtpm.test.ts).
 */
import { afterEach, expect, it } from 'vitest';
import { createTpm12 } from '../../src/tpm12/index.js';
import { Swtpm, describeWithSwtpm } from '../support/swtpm.js';
import { SwtpmDriver, runDifferential } from './support/differential.js';
import { FIXED_STREAMS } from './support/streams.js';

describeWithSwtpm('TPM 1.2 fixed streams vs swtpm', () => {
  let peer: Swtpm | undefined;
  afterEach(async () => {
    await peer?.stop();
    peer = undefined;
  });
  for (const stream of FIXED_STREAMS) {
    it(stream.name, async () => {
      peer = await Swtpm.start({ startupClear: stream.startup });
      const engine = createTpm12({ startup: stream.startup });
      const n = await runDifferential(stream.name, engine, new SwtpmDriver(peer), stream.steps);
      expect(n).toBe(stream.steps.length);
    });
  }
});
