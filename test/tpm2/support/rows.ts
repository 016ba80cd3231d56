/**
 * Table-driven differential rows: each row is a named stream run on a fresh engine and a fresh
 * swtpm, every response compared byte for byte, plus optional golden checks on our responses.
 */
import { afterAll, expect, it } from 'vitest';
import { toHex } from '../../../src/bytes/index.js';
import { describeWithSwtpm } from '../../support/swtpm.js';
import { Pair, type Op } from './pair.js';

export interface Row {
  name: string;
  ops: Op[];
  /** Golden checks on the engine's command responses (hex, in order of the 'cmd' ops). */
  expect?: (responses: string[]) => void;
}

export function runRows(title: string, rows: Row[]): void {
  let compared = 0;
  afterAll(() => console.log(`[${title}] ${compared} responses compared byte for byte with swtpm`));
  describeWithSwtpm(title, () => {
    for (const row of rows) {
      it(row.name, async () => {
        const pair = await Pair.start();
        try {
          const responses: string[] = [];
          for (const op of row.ops) {
            if (op.op === 'cmd') responses.push(toHex(await pair.send(op.bytes, op.locality)));
            else await pair.apply(op);
          }
          compared += pair.compared;
          expect(pair.mismatches, pair.report(row.name)).toEqual([]);
          row.expect?.(responses);
        } finally {
          await pair.stop();
        }
      });
    }
  });
}
