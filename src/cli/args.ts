/**
 * Argument parsing for the tpm-measure CLI (no dependencies). Usage errors are UsageError.
 */
import { LOG_FORMATS, type LogFormat } from '../eventlog/model.js';
import type { ParseLimits } from '../eventlog/limits.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `usage:
  tpm-measure replay <log.bin> [--format F] [--events] [--json] [--cel] [--all]
  tpm-measure verify <log.bin> --pcrs expected.json [--format F] [--json]
  tpm-measure predict --manifest launch.json [--dir DIR] [--export keylime|pcrlock|policy-pcr]
                      [--bank B] [--pcrs 17,18] [--json] [--log out.bin]

  --format F          auto (default) | ${LOG_FORMATS.join(' | ')}
  --events            list the records (with decoded event data)
  --json              machine-readable output
  --cel               replay: print the log as TCG CEL-JSON
  --all               replay: print all 24 PCRs of each bank, not only the extended ones
  --drtm-start S      PCRs 17-22: auto (default; all ones, the first DRTM record on 17-22 resets
                      them to zero) | zero (launched before the log) | ones (never launched)
  --max-log-bytes N, --max-events N, --max-event-data N, --max-digests N   parser limits
  predict: the Secure Launch golden values (PCR 17/18, steps, log) of the manifest's launch; each
  part is the file of that name in --dir (default: the manifest's directory). --log writes the
  predicted event log (one combination only).

  exit codes: 0 ok / all PCRs match, 1 mismatch, 2 usage or parse error`;

export interface PredictArgs {
  manifest: string;
  dir: string | null;
  export: 'keylime' | 'pcrlock' | 'policy-pcr' | null;
  bank: string | null;
  pcrs: string | null;
  json: boolean;
  log: string | null;
}

export interface CliArgs {
  command: 'replay' | 'verify' | 'predict' | 'help';
  predict?: PredictArgs;
  log: string;
  format: LogFormat | 'auto';
  events: boolean;
  json: boolean;
  cel: boolean;
  all: boolean;
  pcrs: string | null;
  drtmStart: 'auto' | 'zero' | 'ones';
  limits: { -readonly [K in keyof ParseLimits]?: number };
}

const LIMIT_FLAGS: Record<string, keyof ParseLimits> = {
  '--max-log-bytes': 'maxLogBytes',
  '--max-events': 'maxEvents',
  '--max-event-data': 'maxEventDataSize',
  '--max-digests': 'maxDigestsPerRecord',
};

/** Walk the arguments; `value()` takes the next one as the current option's value. */
function eachArg(rest: readonly string[], fn: (arg: string, value: () => string) => void): void {
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] ?? '';
    fn(a, () => {
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    });
  }
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = { command: 'help', log: '', format: 'auto', events: false, json: false, cel: false, all: false, pcrs: null, drtmStart: 'auto', limits: {} };
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') return out;
  if (cmd === 'predict') return { ...out, command: 'predict', predict: parsePredict(rest) };
  if (cmd !== 'replay' && cmd !== 'verify') throw new UsageError(`unknown command ${cmd}`);
  out.command = cmd;
  const positional: string[] = [];
  eachArg(rest, (a, value) => {
    if (a === '--events') out.events = true;
    else if (a === '--json') out.json = true;
    else if (a === '--cel') out.cel = true;
    else if (a === '--all') out.all = true;
    else if (a === '--pcrs') out.pcrs = value();
    else if (a === '--format') {
      const f = value();
      if (f !== 'auto' && !(LOG_FORMATS as readonly string[]).includes(f)) throw new UsageError(`unknown format ${f}`);
      out.format = f as LogFormat | 'auto';
    } else if (a === '--drtm-start') {
      const s = value();
      if (s !== 'auto' && s !== 'zero' && s !== 'ones') throw new UsageError(`unknown --drtm-start ${s}`);
      out.drtmStart = s;
    } else if (a in LIMIT_FLAGS) {
      const v = value();
      if (!/^\d{1,10}$/.test(v)) throw new UsageError(`${a} needs a non-negative integer`);
      out.limits[LIMIT_FLAGS[a] as keyof ParseLimits] = Number(v);
    } else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  });
  if (positional.length !== 1) throw new UsageError(`${cmd} needs exactly one log file`);
  out.log = positional[0] ?? '';
  if (cmd === 'verify' && out.pcrs === null) throw new UsageError('verify needs --pcrs expected.json');
  if (cmd === 'verify' && out.cel) throw new UsageError('--cel is for replay');
  return out;
}

function parsePredict(rest: readonly string[]): PredictArgs {
  const p: PredictArgs = { manifest: '', dir: null, export: null, bank: null, pcrs: null, json: false, log: null };
  eachArg(rest, (a, value) => {
    if (a === '--manifest') p.manifest = value();
    else if (a === '--dir') p.dir = value();
    else if (a === '--export') {
      const e = value();
      if (e !== 'keylime' && e !== 'pcrlock' && e !== 'policy-pcr') throw new UsageError(`unknown --export ${e} (keylime, pcrlock, policy-pcr)`);
      p.export = e;
    } else if (a === '--bank') p.bank = value();
    else if (a === '--pcrs') p.pcrs = value();
    else if (a === '--json') p.json = true;
    else if (a === '--log') p.log = value();
    else throw new UsageError(`unknown predict option ${a}`);
  });
  if (!p.manifest) throw new UsageError('predict needs --manifest launch.json');
  return p;
}
