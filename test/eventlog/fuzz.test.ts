/**
 * Property tests (fast-check): mutated, truncated and random inputs either parse — and then
 * serialize back to the same bytes, replay, verify and decode without throwing — or fail with
 * EventLogParseError. Each case is timed; the run is bounded (a few thousand cases).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/bytes/index.js';
import { decodeEventData } from '../../src/eventlog/decode.js';
import { EventLogParseError } from '../../src/eventlog/errors.js';
import { toCelJson } from '../../src/eventlog/cel.js';
import { LOG_FORMATS } from '../../src/eventlog/model.js';
import { parseEventLog } from '../../src/eventlog/parse.js';
import { replayEventLog } from '../../src/eventlog/replay.js';
import { serializeEventLog } from '../../src/eventlog/serialize.js';
import { verifyEventLog } from '../../src/eventlog/verify.js';
import { TxtContainerLog } from '../../src/eventlog/txt-container.js';
import { loadVectors } from './vectors.js';

const vectors = loadVectors();
// The TXT writer gives the container format a seed too.
const txt = new TxtContainerLog({ size: 512 });
txt.append({ pcr: 17, type: 0x402, digest: new Uint8Array(20).fill(7), data: new Uint8Array([1, 2, 3]) });
txt.append({ pcr: 18, type: 0x502, digest: new Uint8Array(20).fill(8), data: new Uint8Array(0) });
const seeds: Uint8Array[] = [...vectors.map((v) => v.bytes), txt.bytes()];

const MAX_CASE_MS = 2000;
let cases = 0;
let parsedOk = 0;
let slowest = 0;

/** Run the whole pipeline; only EventLogParseError may escape parseEventLog. */
function exercise(input: Uint8Array, format?: (typeof LOG_FORMATS)[number]): boolean {
  cases++;
  const t0 = performance.now();
  let ok = false;
  try {
    const log = parseEventLog(input, format ? { format } : {});
    ok = true;
    parsedOk++;
    if (!bytesEqual(serializeEventLog(log), input)) throw new Error('accepted input did not round-trip');
    replayEventLog(log);
    verifyEventLog(log, { sha1: { '0': '00' } });
    toCelJson(log);
    for (const e of log.events) decodeEventData(e.pcr, e.type, e.data);
  } catch (e) {
    if (!(e instanceof EventLogParseError)) throw e;
    if (ok) throw e;
  }
  const ms = performance.now() - t0;
  slowest = Math.max(slowest, ms);
  if (ms > MAX_CASE_MS) throw new Error(`case took ${ms.toFixed(0)} ms`);
  return true;
}

const seedArb = fc.integer({ min: 0, max: seeds.length - 1 }).map((i) => seeds[i] as Uint8Array);
const formatArb = fc.option(fc.constantFrom(...LOG_FORMATS), { nil: undefined });

describe('fuzz: parser robustness (bounded fast-check run)', () => {
  it('byte flips / u32 overwrites in real logs', () => {
    fc.assert(
      fc.property(
        seedArb,
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 0xffffffff }), fc.boolean()), { minLength: 1, maxLength: 6 }),
        formatArb,
        (seed, edits, format) => {
          const b = seed.slice();
          for (const [pos, v, wide] of edits) {
            const at = Math.min(b.length - 1, Math.floor(pos * b.length));
            if (wide && at + 4 <= b.length) new DataView(b.buffer).setUint32(at, v, true);
            else b[at] = v & 0xff;
          }
          return exercise(b, format);
        },
      ),
      { numRuns: 3000, seed: 0x5eed },
    );
  });

  it('truncations and extensions of real logs', () => {
    fc.assert(
      fc.property(seedArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.uint8Array({ maxLength: 40 }), (seed, cut, tail) => {
        const n = Math.floor(cut * seed.length);
        exercise(seed.subarray(0, n));
        return exercise(new Uint8Array([...seed.subarray(0, n), ...tail]));
      }),
      { numRuns: 700, seed: 0x7a11 },
    );
  });

  it('random bytes, with and without a plausible header prefix', () => {
    const agileHead = (vectors.find((v) => v.name === 'tpm2tools-event')?.bytes ?? new Uint8Array(0)).subarray(0, 100);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 0, max: 2 }), formatArb, (rand, prefix, format) => {
        const head = prefix === 1 ? agileHead : prefix === 2 ? txt.bytes().subarray(0, 48) : new Uint8Array(0);
        return exercise(new Uint8Array([...head, ...rand]), format);
      }),
      { numRuns: 800, seed: 0xbadc0de },
    );
  });

  it('reports the case count', () => {
    console.log(`fuzz: ${cases} cases, ${parsedOk} parsed and round-tripped, slowest ${slowest.toFixed(1)} ms`);
    expect(cases).toBeGreaterThanOrEqual(5000);
  });
});
