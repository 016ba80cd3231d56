/**
 * Loader for the public event-log vectors in test/fixtures/eventlogs (see the README there for
 * provenance). Expected values are read at test time, never copied into code.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EVENTLOG_FIXTURE_DIR } from '../fixtures/eventlogs/index.js';

export interface VectorExpected {
  format: string;
  size: number;
  sha256: string;
  pcrs?: Record<string, Record<string, string>>;
  startupLocality?: number;
}

export interface Vector {
  name: string;
  bytes: Uint8Array;
  expected: VectorExpected;
}

export function loadVectors(): Vector[] {
  return readdirSync(EVENTLOG_FIXTURE_DIR)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((f) => ({
      name: f.replace(/\.bin$/, ''),
      bytes: new Uint8Array(readFileSync(join(EVENTLOG_FIXTURE_DIR, f))),
      expected: JSON.parse(readFileSync(join(EVENTLOG_FIXTURE_DIR, f.replace(/\.bin$/, '.expected.json')), 'utf8')) as VectorExpected,
    }));
}
