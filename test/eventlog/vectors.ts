/**
 * Loader for the shared public event-log vectors (/work/shared/vectors/eventlogs, see its
 * README for provenance). Expected values are read at test time, never copied into code.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const VECTOR_DIR = fileURLToPath(new URL('../../../shared/vectors/eventlogs/', import.meta.url));

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
  return readdirSync(VECTOR_DIR)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((f) => ({
      name: f.replace(/\.bin$/, ''),
      bytes: new Uint8Array(readFileSync(VECTOR_DIR + f)),
      expected: JSON.parse(readFileSync(VECTOR_DIR + f.replace(/\.bin$/, '.expected.json'), 'utf8')) as VectorExpected,
    }));
}
