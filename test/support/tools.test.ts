import { afterEach, describe, expect, it, vi } from 'vitest';
import { requireTool, toolAvailable } from './tools.js';

const MISSING = 'tpm-measure-no-such-tool';

describe('peer-tool helper', () => {
  const ci = process.env.CI;
  afterEach(() => {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
    vi.restoreAllMocks();
  });

  it('finds an installed command and not a missing one', () => {
    expect(toolAvailable(process.execPath)).toBe(true);
    expect(toolAvailable(MISSING)).toBe(false);
  });

  it('locally, a missing tool is skipped with a loud warning', () => {
    delete process.env.CI;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(requireTool(MISSING, 'some suite', 'some-package')).toBe(false);
    expect(warn.mock.calls[0]?.[0]).toMatch(/SKIPPING "some suite": tpm-measure-no-such-tool not installed \(apt-get install some-package\)/);
  });

  it('in CI, a missing tool fails', () => {
    process.env.CI = 'true';
    expect(() => requireTool(MISSING, 'some suite')).toThrow(/required in CI for "some suite"/);
  });

  it('an installed tool is simply used', () => {
    process.env.CI = 'true';
    expect(requireTool(process.execPath, 'some suite')).toBe(true);
  });
});
