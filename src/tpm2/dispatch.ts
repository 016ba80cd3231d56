/**
 * Command dispatch (TPM 2.0 Library Part 3 §5 "Command processing"), in the order of libtpms
 * 0.9.2 `ExecCommand.c` ExecuteCommand: end any DRTM sequence, header (tag, size, code),
 * command code, Startup state, handles, handle load status, authorization area, parameters,
 * trailing bytes, action, response. Errors are always the 10-byte form (tag TPM_ST_NO_SESSIONS;
 * libtpms `ExecCommand.c`).
 */
import { BeWriter } from '../bytes/index.js';
import type { CommandContext, CommandDef, HandleKind } from './command.js';
import { makeGetCapability } from './commands/capability.js';
import { FlushContext } from './commands/context.js';
import { Hash } from './commands/hash.js';
import { PCR_Allocate, PCR_Event, PCR_Extend, PCR_Read, PCR_Reset } from './commands/pcr.js';
import { StartAuthSession } from './commands/session.js';
import { GetRandom } from './commands/random.js';
import { EventSequenceComplete, HashSequenceStart, SequenceComplete, SequenceUpdate } from './commands/sequence.js';
import { Shutdown, Startup } from './commands/startup.js';
import { GetTestResult, SelfTest } from './commands/testing.js';
import { handleType, LIMITS, TPM_CC, TPM_HT, TPM_ST, TPM_ST_VALUES } from './constants.js';
import { terminateDrtmSequence } from './drtm.js';
import { ParamReader, RcFault, TpmReader } from './marshal.js';
import { RC_1, RC_H, TPM_RC } from './rc.js';
import { buildResponseSessions, checkSessions, decryptParameters, type SessionArea } from './session.js';
import { decodeDhEntityOrNull, decodeDhObject, decodeDhObjectOrNull, decodeDhPcr, decodeRhPlatform, TPM_RH_AUTH_00, TPM_RH_AUTH_FF } from './structures.js';

const TABLE: CommandDef[] = [
  Startup,
  Shutdown,
  SelfTest,
  GetTestResult,
  GetRandom,
  PCR_Read,
  PCR_Extend,
  PCR_Event,
  PCR_Reset,
  PCR_Allocate,
  HashSequenceStart,
  SequenceUpdate,
  SequenceComplete,
  EventSequenceComplete,
  FlushContext,
  StartAuthSession,
  Hash,
];
TABLE.push(makeGetCapability(() => TABLE));
TABLE.sort((a, b) => a.cc - b.cc);

/** The dispatch table: TPM_CC → command. */
export const COMMANDS: ReadonlyMap<number, CommandDef> = new Map(TABLE.map((c) => [c.cc, c]));

function decodeHandle(r: TpmReader, kind: HandleKind): number {
  switch (kind) {
    case 'TPMI_DH_PCR':
      return decodeDhPcr(r, false);
    case 'TPMI_DH_PCR+':
      return decodeDhPcr(r, true);
    case 'TPMI_DH_OBJECT':
      return decodeDhObject(r);
    case 'TPMI_DH_OBJECT+':
      return decodeDhObjectOrNull(r);
    case 'TPMI_DH_ENTITY+':
      return decodeDhEntityOrNull(r);
    case 'TPMI_RH_PLATFORM':
      return decodeRhPlatform(r);
  }
}

export function errorResponse(rc: number): Uint8Array {
  return new BeWriter(10).u16(TPM_ST.NO_SESSIONS).u32(10).u32(rc).finish();
}

/** Execute one command; never throws for TPM-level errors. */
export function dispatch(command: Uint8Array, ctx: CommandContext): Uint8Array {
  // "Any command through this function will unceremoniously end the _TPM_Hash_Data/_TPM_Hash_End sequence."
  terminateDrtmSequence(ctx.state);
  try {
    return run(command, ctx);
  } catch (e) {
    if (e instanceof RcFault) return errorResponse(e.rc);
    throw e;
  }
}

function run(command: Uint8Array, ctx: CommandContext): Uint8Array {
  const { state } = ctx;
  const r = new TpmReader(command);
  const tag = r.u16();
  if (!TPM_ST_VALUES.has(tag)) throw new RcFault(TPM_RC.VALUE);
  if (tag !== TPM_ST.NO_SESSIONS && tag !== TPM_ST.SESSIONS) throw new RcFault(TPM_RC.BAD_TAG);
  const commandSize = r.u32();
  if (commandSize !== command.length || commandSize > LIMITS.MAX_COMMAND_SIZE) throw new RcFault(TPM_RC.COMMAND_SIZE);
  const cc = r.u32();
  const def = COMMANDS.get(cc);
  if (!def) throw new RcFault(TPM_RC.COMMAND_CODE);
  if (state.started === (cc === TPM_CC.Startup)) throw new RcFault(TPM_RC.INITIALIZE);

  // Handle area: the n-th handle's unmarshal error gets TPM_RC_H + n × TPM_RC_1.
  const handles: number[] = [];
  def.handles.forEach((kind, i) => {
    try {
      handles.push(decodeHandle(r, kind));
    } catch (e) {
      if (e instanceof RcFault) throw new RcFault(e.rc + RC_H + (i + 1) * RC_1);
      throw e;
    }
  });
  // EntityGetLoadStatus: transient objects must be loaded. A persistent handle needs a free slot
  // to load into (ObjectLoadEvict: TPM_RC_OBJECT_MEMORY) and this TPM has no persistent objects
  // nor NV indices (TPM_RC_HANDLE); TPM_RH_AUTH_xx are not permanent entities here (TPM_RC_VALUE).
  handles.forEach((h, i) => {
    const hq = RC_H + (i + 1) * RC_1;
    if (handleType(h) === TPM_HT.TRANSIENT && !state.objects.isPresent(h)) throw new RcFault(TPM_RC.REFERENCE_H0 + i);
    if (handleType(h) === TPM_HT.PERSISTENT) throw new RcFault(state.objects.free === 0 ? TPM_RC.OBJECT_MEMORY : TPM_RC.HANDLE + hq);
    if (handleType(h) === TPM_HT.NV_INDEX) throw new RcFault(TPM_RC.HANDLE + hq);
    if (h >= TPM_RH_AUTH_00 && h <= TPM_RH_AUTH_FF) throw new RcFault(TPM_RC.VALUE + hq);
  });

  let area: SessionArea | null = null;
  let params: Uint8Array;
  if (tag === TPM_ST.SESSIONS) {
    const authSize = r.u32();
    if (authSize < 9 || authSize > r.remaining) throw new RcFault(TPM_RC.SIZE);
    const authArea = r.take(authSize);
    const raw = command.slice(r.offset);
    area = checkSessions(authArea, def, { cc, handles, params: raw }, state);
    params = raw.slice();
    decryptParameters(area, state, params);
  } else {
    if (def.authHandles > 0) throw new RcFault(TPM_RC.AUTH_MISSING);
    params = command.slice(r.offset);
  }

  const pr = new TpmReader(params);
  const action = def.prepare(new ParamReader(pr), state);
  if (pr.remaining !== 0) throw new RcFault(TPM_RC.SIZE);
  const out = action(ctx, handles);

  const pw = new BeWriter(64);
  out.write?.(pw);
  const responseParams = pw.finish().slice();
  const sessionsOut = new BeWriter(64);
  buildResponseSessions(sessionsOut, area, ctx, { cc, handles, params: responseParams }, responseParams, def);

  const w = new BeWriter(64 + responseParams.length);
  w.u16(tag).u32(0).u32(TPM_RC.SUCCESS);
  if (out.handle !== undefined) w.u32(out.handle);
  if (tag === TPM_ST.SESSIONS) w.u32(responseParams.length);
  w.bytes(responseParams);
  if (tag === TPM_ST.SESSIONS) w.bytes(sessionsOut.finish());
  w.patchU32(2, w.length);
  return w.finish();
}
