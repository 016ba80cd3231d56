/**
 * `tpm-measure predict`: the stateless launch prediction (src/launch) on files — the manifest and,
 * next to it (or in --dir), one file per part name, each streamed once.
 */
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadConfig } from '../config.js';
import { DomainError } from '../errors.js';
import { closeHashPool } from '../hash/parallel.js';
import type { LaunchResult } from '../launch/apply.js';
import { parseManifest } from '../launch/manifest.js';
import { PartCollector } from '../launch/parts.js';
import { launchBanks, launchOptions, predictLaunch } from '../launch/predict.js';
import { exportView, predictionView } from '../launch/views.js';
import type { PredictArgs } from './args.js';
import type { CliIo } from './main.js';

export async function predict(a: PredictArgs, io: CliIo): Promise<number> {
  const config = loadConfig(process.env);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(a.manifest, 'utf8')) as unknown;
  } catch (e) {
    if (e instanceof SyntaxError) throw new DomainError('invalid-request', `manifest ${a.manifest}: not valid JSON: ${e.message}`);
    throw e;
  }
  const manifest = parseManifest(json);
  const opts = launchOptions(manifest, config);
  const dir = a.dir ?? dirname(a.manifest);
  const collector = new PartCollector(manifest, launchBanks(opts), config);
  try {
    for (const name of collector.expected) await collector.add(name, createReadStream(join(dir, name)));
    const prediction = await predictLaunch(manifest, collector.finish(), opts);
    if (a.log) {
      if (prediction.results.length !== 1) throw new DomainError('invalid-request', `--log writes one log; the manifest has ${prediction.results.length} variant combinations`);
      await writeFile(a.log, (prediction.results[0] as LaunchResult).log.bytes);
    }
    if (a.export) {
      io.out(JSON.stringify(exportView(prediction, { export: a.export, ...(a.bank ? { bank: a.bank } : {}), ...(a.pcrs ? { pcrs: a.pcrs } : {}) }), null, 2) + '\n');
    } else if (a.json) {
      io.out(JSON.stringify(predictionView(prediction), null, 2) + '\n');
    } else {
      io.out(text(prediction.family, prediction.compat, prediction.results));
    }
    return 0;
  } finally {
    collector.abort();
    await closeHashPool();
  }
}

function text(family: string, compat: string, results: readonly LaunchResult[]): string {
  const lines: string[] = [`family: ${family}  compat: ${compat}`];
  for (const r of results) {
    if (results.length > 1) lines.push(`variant: ${Object.entries(r.choice).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    lines.push('pcrs:');
    for (const [bank, v] of Object.entries(r.pcrs)) {
      lines.push(`  ${bank}:`);
      for (const [i, hex] of Object.entries(v)) lines.push(`    ${i}: ${hex}`);
    }
    lines.push('steps:');
    for (const s of r.steps) {
      const what = s.skipped ? 'skipped' : `pcr ${s.pcr} ${s.extended ? 'extended' : 'not extended'}, ${s.logged ? 'logged' : 'not logged'}`;
      lines.push(`  ${s.step.padEnd(11)} ${(s.part ?? '-').padEnd(14)} ${what}${s.notes.length ? ` (${s.notes.join('; ')})` : ''}`);
    }
  }
  return lines.join('\n') + '\n';
}
