/**
 * Test harness for the reference peer (see swtpm-peer.ts). In CI (CI=true) a missing swtpm is a
 * failure, never a silent skip; locally the differential suites skip with a loud message.
 */
import { describe } from 'vitest';
import { swtpmAvailable } from './swtpm-peer.js';

export { PTM_CMD, Swtpm, swtpmAvailable, swtpmVersion, type SwtpmOptions } from './swtpm-peer.js';

/**
 * `describe` that runs only where swtpm is installed. In CI a missing swtpm throws, so the
 * differential tests can never be skipped there.
 */
export function describeWithSwtpm(name: string, fn: () => void): void {
  if (swtpmAvailable()) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === 'true') {
    throw new Error(`swtpm is required in CI for "${name}" (apt-get install swtpm swtpm-tools)`);
  }
  console.warn(`\n!!!!! SKIPPING "${name}": swtpm not installed (apt-get install swtpm swtpm-tools) !!!!!\n`);
  describe.skip(name, fn);
}
