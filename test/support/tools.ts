/**
 * Peer tools the differential tests need (swtpm, tpm2-tools …). Locally a suite whose tool is
 * missing skips with a loud message; in CI (CI=true) a missing tool is a failure, so those
 * suites can never be skipped silently there.
 */
import { spawnSync } from 'node:child_process';
import { describe } from 'vitest';

const available = new Map<string, boolean>();

/** Whether `command --version` runs and exits 0 (cached per command). */
export function toolAvailable(command: string): boolean {
  let ok = available.get(command);
  if (ok === undefined) {
    ok = spawnSync(command, ['--version'], { encoding: 'utf8' }).status === 0;
    available.set(command, ok);
  }
  return ok;
}

/**
 * Whether `command` can be used by `what`: true if installed; otherwise throws in CI and, locally,
 * warns loudly and returns false. `install` names the Debian package(s) to suggest.
 */
export function requireTool(command: string, what: string, install = command): boolean {
  if (toolAvailable(command)) return true;
  const hint = `(apt-get install ${install})`;
  if (process.env.CI === 'true') throw new Error(`${command} is required in CI for "${what}" ${hint}`);
  console.warn(`\n!!!!! SKIPPING "${what}": ${command} not installed ${hint} !!!!!\n`);
  return false;
}

/** `describe` that runs only where `command` is installed (see requireTool). */
export function describeWithTool(command: string, name: string, fn: () => void, install = command): void {
  if (requireTool(command, name, install)) describe(name, fn);
  else describe.skip(name, fn);
}
