/**
 * fast-check properties of the TIS device: random register traffic never throws and never leaks
 * into another device instance; whatever command reaches the TPM through the FIFO gets the same
 * response as `engine.execute` directly (twin engines, deterministic randomness).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BeWriter } from '../../src/bytes/index.js';
import { TIS_ACCESS, TIS_PROFILES, TIS_REG, TIS_STS, TIS_STS_READ_ZERO, TisDevice, type AccessSize, type TisProfile } from '../../src/tis/index.js';
import type { TpmEngine, TpmFamily } from '../../src/tpm/engine.js';
import { createTpm12 } from '../../src/tpm12/index.js';
import { createTpm2 } from '../../src/tpm2/index.js';
import { PROFILE_FAMILY, RecordingEngine, REG } from './support.js';

const zeros = (n: number) => new Uint8Array(n);
function twinEngine(family: TpmFamily): TpmEngine {
  return family === '1.2' ? createTpm12({ startup: true, random: zeros }) : createTpm2({ startup: true, banks: ['sha1', 'sha256'], random: zeros });
}

const REGISTERS = [
  TIS_REG.ACCESS, TIS_REG.INT_ENABLE, TIS_REG.INT_VECTOR, TIS_REG.INT_STATUS, TIS_REG.INTF_CAPABILITY, TIS_REG.STS,
  TIS_REG.DATA_FIFO, TIS_REG.INTERFACE_ID, TIS_REG.XDATA_FIFO, TIS_REG.XDATA_FIFO + 0x3c, TIS_REG.DID_VID, TIS_REG.RID,
  0x004, 0x020, 0x028, 0xf90,
];
const INTERESTING = [
  TIS_ACCESS.REQUEST_USE, TIS_ACCESS.ACTIVE_LOCALITY, TIS_ACCESS.SEIZE, TIS_ACCESS.BEEN_SEIZED, TIS_STS.COMMAND_READY,
  TIS_STS.TPM_GO, TIS_STS.RESPONSE_RETRY, 0x60, 0xff, 0x00,
];

type Op =
  | { kind: 'read'; offset: number; size: AccessSize }
  | { kind: 'write'; offset: number; size: AccessSize; value: number }
  | { kind: 'launch'; len: number };

const sizeArb = fc.constantFrom<AccessSize>(1, 2, 4);
const offsetArb = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 4 }), fc.constantFrom(...REGISTERS), fc.integer({ min: 0, max: 3 })).map(([l, r, s]) => REG(l, r) + s),
  fc.integer({ min: -8, max: 0x5008 }),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const), offset: offsetArb, size: sizeArb }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      offset: offsetArb,
      size: sizeArb,
      value: fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 0xffffffff })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('launch' as const), len: fc.integer({ min: 0, max: 100 }) }) },
);

function apply(d: TisDevice, op: Op): void {
  if (op.kind === 'read') d.read(op.offset, op.size);
  else if (op.kind === 'write') d.write(op.offset, op.size, op.value);
  else d.dynamicLaunch(new Uint8Array(op.len));
}

describe('property: random register traffic', () => {
  for (const profile of TIS_PROFILES) {
    it(`${profile}: never throws, stays decodable, never touches another instance`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
          const family = PROFILE_FAMILY[profile];
          const a = new TisDevice(twinEngine(family), { profile });
          const b = new TisDevice(twinEngine(family), { profile });
          b.write(REG(1, TIS_REG.ACCESS), 1, TIS_ACCESS.REQUEST_USE);
          b.write(REG(1, TIS_REG.STS), 1, TIS_STS.COMMAND_READY);
          const bBefore = JSON.stringify([b.snapshot(), b.engine.snapshot()]);
          for (const op of ops) apply(a, op);
          const v = a.state();
          expect(JSON.parse(JSON.stringify(v))).toEqual(v);
          for (const l of [0, 1, 2, 3]) {
            const sts = a.read(REG(l, TIS_REG.STS), 4);
            if (v.activeLocality === l) expect(sts & TIS_STS_READ_ZERO).toBe(0);
            else expect(sts).toBe(0xffffffff);
          }
          expect(JSON.stringify([b.snapshot(), b.engine.snapshot()])).toBe(bBefore);
        }),
        { numRuns: 150 },
      );
    });
  }
});

/** A framed command: valid tag/size, a plausible or random code, random body. */
function commandArb(family: TpmFamily): fc.Arbitrary<Uint8Array> {
  const codes12 = [0x14, 0x15, 0x46, 0x65, 0x99, 0xa0, 0xa1, 0xa2, 0xa3, 0xc8, 0x4000000a];
  const codes2 = [0x144, 0x17e, 0x182, 0x17a, 0x17b, 0x186, 0x15c, 0x185, 0x13d, 0x165, 0x143];
  const tags = family === '1.2' ? [0x00c1, 0x00c2, 0x00c4] : [0x8001, 0x8002, 0x8000];
  return fc
    .tuple(
      fc.constantFrom(...tags),
      fc.oneof(fc.constantFrom(...(family === '1.2' ? codes12 : codes2)), fc.integer({ min: 0, max: 0xffffffff })),
      fc.uint8Array({ maxLength: 200 }),
    )
    .map(([tag, code, body]) => {
      const w = new BeWriter().u16(tag).u32(10 + body.length).u32(code).bytes(body);
      return w.finish();
    });
}

/** Raw register exchange with random access widths, honouring burstCount. */
function fifoExchange(d: TisDevice, loc: number, cmd: Uint8Array, wide: boolean): Uint8Array {
  d.write(REG(loc, TIS_REG.STS), 1, TIS_STS.COMMAND_READY);
  let off = 0;
  while (off < cmd.length) {
    const burst = Math.max(1, d.read(REG(loc, TIS_REG.BURST_COUNT), 2));
    const end = Math.min(cmd.length, off + burst);
    while (off < end) {
      if (wide && end - off >= 4) {
        d.write(REG(loc, TIS_REG.XDATA_FIFO + ((off * 4) & 0x3c)), 4, ((cmd[off] ?? 0) | ((cmd[off + 1] ?? 0) << 8) | ((cmd[off + 2] ?? 0) << 16) | ((cmd[off + 3] ?? 0) << 24)) >>> 0);
        off += 4;
      } else d.write(REG(loc, TIS_REG.DATA_FIFO), 1, cmd[off++] ?? 0);
    }
  }
  d.write(REG(loc, TIS_REG.STS), 1, TIS_STS.TPM_GO);
  while ((d.read(REG(loc, TIS_REG.STS), 1) & 0x90) !== 0x90);
  const out: number[] = [];
  while ((d.read(REG(loc, TIS_REG.STS), 1) & 0x90) === 0x90) out.push(d.read(REG(loc, TIS_REG.DATA_FIFO), 1));
  return Uint8Array.from(out);
}

describe('property: a command through the FIFO gets the same response as engine.execute', () => {
  for (const profile of TIS_PROFILES) {
    const family = PROFILE_FAMILY[profile];
    it(`${profile}`, () => {
      let exchanged = 0;
      fc.assert(
        fc.property(
          fc.array(commandArb(family), { minLength: 1, maxLength: 6 }),
          fc.integer({ min: 0, max: 3 }),
          fc.boolean(),
          fc.integer({ min: 1, max: 0xffff }),
          fc.integer({ min: 0, max: 4 }),
          fc.array(opArb.filter((o) => o.kind !== 'launch'), { maxLength: 10 }),
          (cmds, loc, wide, burstMax, executionReads, noise) => {
            const rec = new RecordingEngine(twinEngine(family));
            const twin = twinEngine(family);
            const d = new TisDevice(rec, { profile: profile as TisProfile, burstMax, executionReads });
            for (const op of noise) apply(d, op); // arbitrary prior traffic (may leave a locality active)
            for (const l of [0, 1, 2, 3]) d.write(REG(l, TIS_REG.ACCESS), 1, TIS_ACCESS.ACTIVE_LOCALITY);
            d.write(REG(loc, TIS_REG.ACCESS), 1, TIS_ACCESS.SEIZE);
            d.write(REG(loc, TIS_REG.ACCESS), 1, TIS_ACCESS.REQUEST_USE);
            if (d.state().activeLocality !== loc) return; // a higher locality was left waiting and won
            for (const r of rec.log) twin.execute(r.cmd, r.locality); // replay the noise on the twin
            rec.log.length = 0;
            for (const cmd of cmds) {
              const got = fifoExchange(d, loc, cmd, wide && profile !== 'tis-1.2');
              const want = twin.execute(cmd, loc as 0 | 1 | 2 | 3);
              expect(rec.log.at(-1)?.cmd).toEqual(cmd);
              expect(got).toEqual(want);
            }
            exchanged++;
          },
        ),
        { numRuns: 120 },
      );
      expect(exchanged).toBeGreaterThan(60); // the property was not vacuous
    });
  }
});
