/**
 * Test harness for the reference peer (see swtpm-peer.ts). In CI (CI=true) a missing swtpm is a
 * failure, never a silent skip; locally the differential suites skip with a loud message.
 */
import { describeWithTool } from './tools.js';

export { PTM_CMD, Swtpm, swtpmAvailable, swtpmVersion, type SwtpmOptions } from './swtpm-peer.js';

/**
 * `describe` that runs only where swtpm is installed. In CI a missing swtpm throws, so the
 * differential tests can never be skipped there.
 */
export function describeWithSwtpm(name: string, fn: () => void): void {
  describeWithTool('swtpm', name, fn, 'swtpm swtpm-tools');
}
