/**
 * Hostile snapshots (fast-check): a valid snapshot with one part replaced by arbitrary JSON and the
 * digest recomputed (so only the full check stands between it and a TPM). importSnapshot either
 * refuses it with a 422 `snapshot-invalid` or returns a session start that builds and runs a TPM
 * command; it never throws anything else and never builds half a session.
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/sessions/session.js';
import { canonicalJson, exportSnapshot, importSnapshot } from '../../src/sessions/snapshot-doc.js';
import { resolveSessionOptions } from '../../src/sessions/options.js';
import { DomainError } from '../../src/errors.js';
import { pcrRead12 } from '../../src/drivers/tpm12-commands.js';
import { pcrExtend } from '../../src/drivers/tpm2-commands.js';
import { measureDigests } from '../../src/measure/measure.js';

const limits = { defaultLogSize: 32768, maxLogSize: 1024 * 1024 };
type Json = unknown;

function base(family: '1.2' | '2.0'): Record<string, Json> {
  const s = new Session('x', resolveSessionOptions({ family }, limits), 0);
  const d = new Map([
    ['sha1', new Uint8Array(createHash('sha1').update('a').digest())],
    ['sha256', new Uint8Array(createHash('sha256').update('a').digest())],
  ] as const);
  measureDigests(s, { pcr: 18, locality: 2, eventType: 0x502, eventData: new Uint8Array([1, 2]), hashing: 'host' }, 1, new Map(d));
  return JSON.parse(JSON.stringify(exportSnapshot(s, 0))) as Record<string, Json>;
}

/** Every path (list of keys) into a JSON value. */
function paths(v: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function setAt(root: Json, path: (string | number)[], value: Json): Json {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, Json>;
  let cur = copy;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, Json>;
  cur[path[path.length - 1]!] = value;
  return copy;
}

describe('hostile snapshots', () => {
  for (const family of ['1.2', '2.0'] as const) {
    it(`TPM ${family}: one part replaced by arbitrary JSON, re-digested → 422 or a working session, nothing else`, () => {
      const good = base(family);
      const all = paths(good.session);
      let refused = 0;
      let accepted = 0;
      fc.assert(
        fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.jsonValue({ maxDepth: 3 }), (i, value) => {
          const session = setAt(good.session, all[i]!, value);
          const doc = { ...good, session, digest: 'sha256:' + createHash('sha256').update(canonicalJson(session)).digest('hex') };
          let start;
          try {
            start = importSnapshot(doc, limits);
          } catch (e) {
            expect(e).toBeInstanceOf(DomainError);
            expect((e as DomainError).kind).toBe('snapshot-invalid');
            refused++;
            return;
          }
          accepted++;
          const s = new Session('y', start.options, 0);
          s.load(start.start.head, start.start.events, 1, 0);
          const rsp = s.engine.execute(family === '1.2' ? pcrRead12(18) : pcrExtend(16, [{ bank: 'sha1', digest: new Uint8Array(20) }]), 0);
          expect(rsp.length).toBeGreaterThanOrEqual(10);
          // What was accepted is a session like any other: it exports and imports again.
          expect(() => importSnapshot(JSON.parse(JSON.stringify(exportSnapshot(s, 0))), limits)).not.toThrow();
        }),
        { numRuns: 400 },
      );
      console.log(`hostile snapshots (TPM ${family}): ${refused} refused with 422, ${accepted} accepted and usable`);
      expect(refused).toBeGreaterThan(0);
    });
  }
});
