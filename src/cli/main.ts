/**
 * tpm-measure CLI: replay and verify event logs (src/eventlog). The only code here with process
 * side effects (files, stdout, exit code); `main` returns the exit code and is what tests call.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { EventLogParseError } from '../eventlog/errors.js';
import { toCelJson } from '../eventlog/cel.js';
import { parseEventLog } from '../eventlog/parse.js';
import { replayEventLog } from '../eventlog/replay.js';
import { checkExpectedPcrs, verifyEventLog } from '../eventlog/verify.js';
import { USAGE, UsageError, parseArgs } from './args.js';
import { replayJson, replayText, verifyJson, verifyText } from './output.js';
import { DomainError } from '../errors.js';
import { predict } from './predict.js';

export const EXIT = { OK: 0, MISMATCH: 1, USAGE: 2 } as const;

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

const processIo: CliIo = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
};

async function readExpected(path: string): Promise<unknown> {
  const j = JSON.parse(await readFile(path, 'utf8')) as unknown;
  // Accept a bare {bank: {index: hex}} or a vectors-style file with a `pcrs` member.
  if (typeof j === 'object' && j !== null && 'pcrs' in j) return (j as { pcrs: unknown }).pcrs;
  return j;
}

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args.command === 'help') {
      if (argv.length === 0) {
        io.err(USAGE + '\n');
        return EXIT.USAGE;
      }
      io.out(USAGE + '\n');
      return EXIT.OK;
    }
    if (args.command === 'predict' && args.predict) return await predict(args.predict, io);
    const bytes = new Uint8Array(await readFile(args.log));
    const log = parseEventLog(bytes, { format: args.format, limits: args.limits });
    if (args.command === 'replay') {
      const r = replayEventLog(log, { drtmStart: args.drtmStart });
      if (args.cel) io.out(JSON.stringify(toCelJson(log), null, 2) + '\n');
      else if (args.json) io.out(JSON.stringify(replayJson(log, r, args.events, args.all), null, 2) + '\n');
      else io.out(replayText(log, r, args.events, args.all));
      return EXIT.OK;
    }
    const expected = checkExpectedPcrs(await readExpected(args.pcrs ?? ''));
    const v = verifyEventLog(log, expected, { drtmStart: args.drtmStart });
    io.out(args.json ? JSON.stringify(verifyJson(v), null, 2) + '\n' : verifyText(v));
    return v.ok ? EXIT.OK : EXIT.MISMATCH;
  } catch (e) {
    if (e instanceof UsageError) io.err(`error: ${e.message}\n${USAGE}\n`);
    else if (e instanceof EventLogParseError) io.err(`parse error: ${e.message}\n`);
    else if (e instanceof DomainError) io.err(`${e.kind}: ${e.message}\n`);
    else if (e instanceof SyntaxError || e instanceof TypeError) io.err(`bad expected-PCRs file: ${e.message}\n`);
    else if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('E')) io.err(`error: ${e.message}\n`);
    else throw e;
    return EXIT.USAGE;
  }
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(invokedPath).href) {
  process.exitCode = await main(process.argv.slice(2));
}
