/**
 * Random Secure Launches, predicted (src/launch, the code behind POST /v1/launches) and fed to swtpm
 * the way the platform and Xen feed a real TPM: the dynamic launch through swtpm's control channel
 * (HASH_START/DATA/END), SINIT's extends at locality 3, the MBI through raw SHA1Start/SHA1Update/
 * SHA1CompleteExtend (TPM 1.2) or HashSequenceStart/SequenceUpdate/EventSequenceComplete (TPM 2.0)
 * at locality 2, everything else through raw extends at locality 2. What swtpm is fed comes from the
 * test's own reading of the rules (test/launch/support.ts), not from the prediction. PCR 17 and 18
 * and every intermediate value must be equal, and the predicted log must replay to the predicted PCRs.
 */
import { afterAll, expect, it } from 'vitest';
import type { BankName } from '../../src/hash/index.js';
import { closeHashPool } from '../../src/hash/parallel.js';
import { parseEventLog, replayEventLog } from '../../src/eventlog/index.js';
import { toHex } from '../../src/bytes/index.js';
import { parseManifest } from '../../src/launch/manifest.js';
import { PartCollector, collectInline } from '../../src/launch/parts.js';
import { launchBanks, launchOptions, predictLaunch } from '../../src/launch/predict.js';
import { loadConfig } from '../../src/config.js';
import { describeWithSwtpm } from '../support/swtpm.js';
import { genLaunch, SwtpmLaunch } from './support.js';

const config = loadConfig({});
const PER_CONFIG = 12;
const CONFIGS: { family: '1.2' | '2.0'; banks: BankName[]; compat: 'xen' | 'strict' }[] = [
  { family: '1.2', banks: ['sha1'], compat: 'xen' },
  { family: '1.2', banks: ['sha1'], compat: 'strict' },
  { family: '2.0', banks: ['sha1', 'sha256'], compat: 'xen' },
  { family: '2.0', banks: ['sha1', 'sha256'], compat: 'strict' },
  { family: '2.0', banks: ['sha1', 'sha256', 'sha384', 'sha512'], compat: 'xen' },
  { family: '2.0', banks: ['sha1', 'sha256', 'sha384', 'sha512'], compat: 'strict' },
];
const FORMS = ['part', 'events', 'fromLog'] as const;

const tally = { launches: 0, steps: 0, comparisons: 0, forms: { part: 0, events: 0, fromLog: 0 }, ii: { 0: 0, 552: 0, 560: 0 } as Record<number, number>, mbiShort: 0, evtInfo: new Set<number>(), entries: new Set<number>(), bigBlobs: 0 };
afterAll(async () => {
  console.log(`launch vs swtpm: ${tally.launches} launches (${CONFIGS.length} family/bank/compat configurations × ${PER_CONFIG}), ${tally.steps} steps, ${tally.comparisons} PCR values compared; sinit forms ${JSON.stringify(tally.forms)}, INTEL_INFO ${JSON.stringify(tally.ii)}, MBI total_size < length in ${tally.mbiShort}, evtInfo lengths {${[...tally.evtInfo].sort((a, b) => a - b).join(',')}}, entry counts {${[...tally.entries].sort().join(',')}}, blobs ≥ 1 MiB: ${tally.bigBlobs}`);
  await closeHashPool();
});

describeWithSwtpm('Secure Launch prediction vs swtpm fed the same launch', () => {
  for (const cfg of CONFIGS) {
    it(`TPM ${cfg.family} ${cfg.banks.join('+')} ${cfg.compat}: ${PER_CONFIG} random launches`, async () => {
      const peer = await SwtpmLaunch.start(cfg.family, cfg.banks);
      try {
        for (let i = 0; i < PER_CONFIG; i++) {
          const seed = 1000 * CONFIGS.indexOf(cfg) + i + 1;
          const g = genLaunch(seed, cfg.family, cfg.banks, cfg.compat, FORMS[i % 3] as (typeof FORMS)[number]);
          const manifest = parseManifest(g.manifest);
          const opts = launchOptions(manifest, config);
          const parts = await collectInline(new PartCollector(manifest, launchBanks(opts), config), g.parts);
          const [r] = (await predictLaunch(manifest, parts, opts)).results;
          if (!r) throw new Error('no result');
          expect(r.steps.length, `seed ${seed}: one step per op`).toBe(g.ops.length);
          for (const [k, step] of r.steps.entries()) {
            const op = g.ops[k];
            if (!op) throw new Error('no op');
            await peer.apply(op);
            if (step.skipped || step.pcr === undefined) {
              expect(op.op, `seed ${seed} step ${k}`).toBe('noop');
              continue;
            }
            const theirs = await peer.read(step.pcr);
            expect(step.pcrValues, `seed ${seed} step ${k} (${step.step} ${step.field}) PCR ${step.pcr}`).toEqual(theirs);
            tally.comparisons += Object.keys(theirs).length;
            tally.steps++;
          }
          for (const pcr of [17, 18]) {
            const theirs = await peer.read(pcr);
            for (const [bank, v] of Object.entries(theirs)) expect(r.pcrs[bank]?.[String(pcr)], `seed ${seed} final PCR ${pcr} ${bank}`).toBe(v);
            tally.comparisons += Object.keys(theirs).length;
          }
          // The predicted log replays (our replay) to the predicted PCRs.
          const replay = replayEventLog(parseEventLog(r.log.bytes));
          for (const bank of cfg.banks) for (const pcr of [17, 18]) expect(toHex(replay.pcrs[bank]?.[pcr] as Uint8Array), `seed ${seed} replay ${bank} PCR ${pcr}`).toBe(r.pcrs[bank]?.[String(pcr)]);
          tally.launches++;
          tally.forms[g.sinitForm]++;
          tally.ii[g.intelInfo] = (tally.ii[g.intelInfo] ?? 0) + 1;
          if (g.mbiTotal < g.mbiLength) tally.mbiShort++;
          g.evtInfoLengths.forEach((l) => tally.evtInfo.add(l));
          tally.entries.add(g.entries);
          tally.bigBlobs += Object.values(g.parts).filter((p) => p.length >= 1024 * 1024).length;
        }
      } finally {
        await peer.stop();
      }
    }, 240_000);
  }
});
