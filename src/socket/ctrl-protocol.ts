/**
 * swtpm's control channel, as a pure codec and processor (no sockets here).
 *
 * Wire format (swtpm include/swtpm/tpm_ioctl.h, src/swtpm/ctrlchannel.c; swtpm_ioctl(8)): a request
 * is a big-endian u32 command code (CMD_*) followed by that command's request structure, all
 * big-endian; a response is the structure's response half, starting with a u32 TPM result code.
 * One request at a time; the client waits for the response before sending the next.
 */
import { putU32be, u32be } from '../bytes/index.js';
import type { Locality, TpmFamily } from '../tpm/engine.js';

/** Control-channel command codes (tpm_ioctl.h, the CMD_* enum). */
export const CTRL_CMD = {
  GET_CAPABILITY: 0x01,
  INIT: 0x02,
  SHUTDOWN: 0x03,
  GET_TPMESTABLISHED: 0x04,
  SET_LOCALITY: 0x05,
  HASH_START: 0x06,
  HASH_DATA: 0x07,
  HASH_END: 0x08,
  CANCEL_TPM_CMD: 0x09,
  STORE_VOLATILE: 0x0a,
  RESET_TPMESTABLISHED: 0x0b,
  GET_STATEBLOB: 0x0c,
  SET_STATEBLOB: 0x0d,
  STOP: 0x0e,
  GET_CONFIG: 0x0f,
  SET_DATAFD: 0x10,
  SET_BUFFERSIZE: 0x11,
  GET_INFO: 0x12,
} as const;

/** PTM_CAP_* bits answered by CMD_GET_CAPABILITY (tpm_ioctl.h). */
export const PTM_CAP = {
  INIT: 1 << 0,
  SHUTDOWN: 1 << 1,
  GET_TPMESTABLISHED: 1 << 2,
  SET_LOCALITY: 1 << 3,
  HASHING: 1 << 4,
  CANCEL_TPM_CMD: 1 << 5,
  STORE_VOLATILE: 1 << 6,
  RESET_TPMESTABLISHED: 1 << 7,
  GET_STATEBLOB: 1 << 8,
  SET_STATEBLOB: 1 << 9,
  STOP: 1 << 10,
  GET_CONFIG: 1 << 11,
  SET_DATAFD: 1 << 12,
  SET_BUFFERSIZE: 1 << 13,
  GET_INFO: 1 << 14,
  SEND_COMMAND_HEADER: 1 << 15,
} as const;

/** PTM_INIT_FLAG_DELETE_VOLATILE: drop the stored volatile state after resuming from it. */
export const PTM_INIT_FLAG_DELETE_VOLATILE = 1;

/** TPM 1.2 result codes swtpm's control channel answers with (TPM Main Part 2 §16). */
export const CTRL_RC = {
  SUCCESS: 0x00,
  BAD_PARAMETER: 0x03,
  FAIL: 0x09,
  BAD_ORDINAL: 0x0a,
  SIZE: 0x17,
  IOERROR: 0x1f,
  BAD_LOCALITY: 0x3d,
  /** TPM_RETRY (TPM_NON_FATAL + 0): our answer while a TIS locality held over /mmio blocks the TPM. */
  RETRY: 0x800,
} as const;

/** Size of swtpm's `struct input` (u32 cmd + sizeof(ptm_hdata) = 4 + 4 + 4096). */
export const CTRL_INPUT_MAX = 4 + 4 + 4096;
/** Largest HASH_DATA payload per request (ptm_hdata.u.req.data). */
export const HASH_DATA_MAX = 4096;

export const SPEC_INFO: Record<TpmFamily, string> = {
  // TPMLIB_GetInfo(TPMLIB_INFO_TPMSPECIFICATION) of libtpms 0.9 (probed with swtpm_ioctl --info 1).
  '1.2': '"TPMSpecification":{"family":"1.2","level":2,"revision":116}',
  '2.0': '"TPMSpecification":{"family":"2.0","level":0,"revision":164}',
};
export const ATTRIBUTE_INFO: Record<TpmFamily, string> = {
  // TPMLIB_GetInfo(TPMLIB_INFO_TPMATTRIBUTES) (swtpm_ioctl --info 2).
  '1.2': '"TPMAttributes":{"manufacturer":"id:00001014","version":"id:00740001","model":"swtpm"}',
  '2.0': '"TPMAttributes":{"manufacturer":"id:00001014","version":"id:20191023","model":"swtpm"}',
};
/** libtpms TPMLIB_SetBufferSize limits: [min, max] per family (probed with swtpm_ioctl -b 0). */
export const BUFFER_LIMITS: Record<TpmFamily, { min: number; max: number }> = {
  '1.2': { min: 3072, max: 4096 },
  '2.0': { min: 2808, max: 4096 },
};

/**
 * What the control channel acts on: the session's TPM seen through one socket attachment.
 * Implemented by the socket adapter inside the session's turn.
 */
export interface CtrlTarget {
  readonly family: TpmFamily;
  /** Whether the TPM runs (false after CMD_STOP or a failed CMD_INIT, until the next CMD_INIT). */
  isRunning(): boolean;
  setRunning(running: boolean): void;
  /** Set the locality data-channel commands are sent at (CMD_SET_LOCALITY). */
  setLocality(locality: Locality): void;
  /** The buffer size in use (TPM_BUFFER_MAX). */
  readonly bufferSize: number;
  /** TPM_Init; resumes stored volatile state when there is some. Returns the TPM result. */
  init(flags: number): number;
  established(): boolean;
  resetEstablished(locality: Locality): number;
  hashStart(): number;
  hashData(data: Uint8Array): number;
  hashEnd(): number;
  /** CMD_STORE_VOLATILE: keep the volatile state for the next CMD_INIT to resume. */
  storeVolatile(): number;
}

/** What the adapter does after sending the response. */
export type CtrlAfter = 'none' | 'shutdown';

export interface CtrlOutcome {
  response: Uint8Array;
  after: CtrlAfter;
}

/** Whether processing the command can change the TPM (the adapter takes a write turn for those). */
export function ctrlMutates(cmd: number): boolean {
  return cmd !== CTRL_CMD.GET_CAPABILITY && cmd !== CTRL_CMD.GET_TPMESTABLISHED && cmd !== CTRL_CMD.GET_CONFIG && cmd !== CTRL_CMD.GET_INFO && cmd !== CTRL_CMD.SET_BUFFERSIZE;
}

/**
 * How many bytes of `buf` make the request complete, as swtpm's ctrlchannel_recv_cmd decides it:
 * the command code, plus the fixed request structure for commands that have one, plus the
 * announced data for HASH_DATA. Returns -1 while fewer than 4 bytes are there.
 */
export function ctrlNeeded(buf: Uint8Array): number {
  if (buf.length < 4) return -1;
  switch (u32be(buf, 0)) {
    case CTRL_CMD.INIT:
    case CTRL_CMD.SET_BUFFERSIZE:
      return 8;
    case CTRL_CMD.SET_LOCALITY:
    case CTRL_CMD.RESET_TPMESTABLISHED:
      return 5;
    case CTRL_CMD.GET_INFO:
      return 4 + 16;
    case CTRL_CMD.GET_STATEBLOB:
      return 4 + 12;
    case CTRL_CMD.HASH_DATA:
      return buf.length < 8 ? 8 : 8 + u32be(buf, 4);
    default:
      return 4;
  }
}

/**
 * Take one request off the front of `buf`, or null when it is not complete yet. Like swtpm, which
 * reads whatever arrived (up to its input buffer) once the request is complete, the request takes
 * every byte received so far, except that HASH_DATA takes exactly its announced length.
 * `tooLong` is set when HASH_DATA announces more than one request may carry (the adapter answers
 * TPM_BAD_PARAMETER and closes the connection: the stream cannot be resynchronised).
 */
export function takeCtrlRequest(buf: Uint8Array): { request: Uint8Array; rest: Uint8Array; tooLong: boolean } | null {
  const needed = ctrlNeeded(buf);
  if (needed < 0) return null;
  if (u32be(buf, 0) === CTRL_CMD.HASH_DATA && buf.length >= 8 && u32be(buf, 4) > HASH_DATA_MAX) {
    return { request: buf.subarray(0, 8), rest: new Uint8Array(0), tooLong: true };
  }
  if (buf.length < needed) return null;
  const take = u32be(buf, 0) === CTRL_CMD.HASH_DATA ? needed : Math.min(buf.length, CTRL_INPUT_MAX);
  return { request: buf.subarray(0, take), rest: buf.subarray(take), tooLong: false };
}

function result(rc: number, extra = 0): Uint8Array {
  const out = new Uint8Array(4 + extra);
  putU32be(out, 0, rc >>> 0);
  return out;
}

/** The capabilities we implement: swtpm's set without the state-blob transfer and SET_DATAFD. */
export function capabilities(family: TpmFamily): bigint {
  let caps =
    PTM_CAP.INIT | PTM_CAP.SHUTDOWN | PTM_CAP.GET_TPMESTABLISHED | PTM_CAP.SET_LOCALITY | PTM_CAP.HASHING | PTM_CAP.CANCEL_TPM_CMD |
    PTM_CAP.STORE_VOLATILE | PTM_CAP.RESET_TPMESTABLISHED | PTM_CAP.STOP | PTM_CAP.GET_CONFIG | PTM_CAP.SET_BUFFERSIZE | PTM_CAP.GET_INFO;
  if (family === '2.0') caps |= PTM_CAP.SEND_COMMAND_HEADER;
  return BigInt(caps);
}

/** TPMLIB_GetInfo's JSON for the flags (bit 0 specification, bit 1 attributes). */
export function infoString(family: TpmFamily, flags: bigint): string {
  const parts: string[] = [];
  if (flags & 1n) parts.push(SPEC_INFO[family]);
  if (flags & 2n) parts.push(ATTRIBUTE_INFO[family]);
  return `{${parts.join(',')}}`;
}

/**
 * Process one complete request (from takeCtrlRequest) against `t`; mirrors the checks and result
 * codes of swtpm 0.7 ctrlchannel_process_fd: a payload of the wrong size is TPM_BAD_PARAMETER,
 * a command that needs a running TPM answers TPM_BAD_ORDINAL while it is stopped, and an unknown
 * (or unimplemented) command answers TPM_BAD_ORDINAL.
 */
export function processCtrl(req: Uint8Array, t: CtrlTarget): CtrlOutcome {
  const none = (response: Uint8Array): CtrlOutcome => ({ response, after: 'none' });
  if (req.length < 4) return none(result(CTRL_RC.BAD_PARAMETER));
  const cmd = u32be(req, 0);
  const n = req.length - 4;
  const body = req.subarray(4);
  const needsRunning = (): CtrlOutcome | null => (t.isRunning() ? null : none(result(CTRL_RC.BAD_ORDINAL)));
  switch (cmd) {
    case CTRL_CMD.GET_CAPABILITY: {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigUint64(0, capabilities(t.family));
      return none(out);
    }
    case CTRL_CMD.INIT: {
      if (n !== 4) return none(result(CTRL_RC.BAD_PARAMETER));
      const rc = t.init(u32be(body, 0));
      t.setRunning(rc === 0);
      return none(result(rc));
    }
    case CTRL_CMD.STOP:
      if (n !== 0) return none(result(CTRL_RC.BAD_PARAMETER));
      t.setRunning(false);
      return none(result(CTRL_RC.SUCCESS));
    case CTRL_CMD.SHUTDOWN:
      if (n !== 0) return none(result(CTRL_RC.BAD_PARAMETER));
      return { response: result(CTRL_RC.SUCCESS), after: 'shutdown' };
    case CTRL_CMD.GET_TPMESTABLISHED: {
      const stopped = needsRunning();
      if (stopped) return stopped;
      if (n !== 0) return none(result(CTRL_RC.BAD_PARAMETER));
      // ptm_est.u.resp: u32 result, u8 bit, padded to the structure's size (8 bytes).
      const out = result(CTRL_RC.SUCCESS, 4);
      out[4] = t.established() ? 1 : 0;
      return none(out);
    }
    case CTRL_CMD.RESET_TPMESTABLISHED: {
      const stopped = needsRunning();
      if (stopped) return stopped;
      if (n < 1) return none(result(CTRL_RC.BAD_PARAMETER));
      const loc = body[0] ?? 0;
      return none(result(loc > 4 ? CTRL_RC.BAD_LOCALITY : t.resetEstablished(loc as Locality)));
    }
    case CTRL_CMD.SET_LOCALITY: {
      if (n < 1) return none(result(CTRL_RC.BAD_PARAMETER));
      const loc = body[0] ?? 0;
      if (loc > 4) return none(result(CTRL_RC.BAD_LOCALITY));
      t.setLocality(loc as Locality);
      return none(result(CTRL_RC.SUCCESS));
    }
    case CTRL_CMD.HASH_START: {
      const stopped = needsRunning();
      if (stopped) return stopped;
      if (n !== 0) return none(result(CTRL_RC.BAD_PARAMETER));
      return none(result(t.hashStart()));
    }
    case CTRL_CMD.HASH_DATA: {
      const stopped = needsRunning();
      if (stopped) return stopped;
      if (n < 4) return none(result(CTRL_RC.BAD_PARAMETER));
      return none(result(t.hashData(body.subarray(4))));
    }
    case CTRL_CMD.HASH_END: {
      const stopped = needsRunning();
      if (stopped) return stopped;
      if (n !== 0) return none(result(CTRL_RC.BAD_PARAMETER));
      return none(result(t.hashEnd()));
    }
    case CTRL_CMD.CANCEL_TPM_CMD: {
      const stopped = needsRunning();
      if (stopped) return stopped;
      if (n !== 0) return none(result(CTRL_RC.BAD_PARAMETER));
      // Commands run to completion here, so there is never one to cancel; libtpms'
      // TPMLIB_CancelCommand answers TPM_FAIL for TPM 1.2 and success for TPM 2.0 (probed).
      return none(result(t.family === '1.2' ? CTRL_RC.FAIL : CTRL_RC.SUCCESS));
    }
    case CTRL_CMD.STORE_VOLATILE: {
      const stopped = needsRunning();
      if (stopped) return stopped;
      if (n !== 0) return none(result(CTRL_RC.BAD_PARAMETER));
      return none(result(t.storeVolatile()));
    }
    case CTRL_CMD.GET_CONFIG: {
      if (n !== 0) return none(result(CTRL_RC.BAD_PARAMETER));
      // ptm_getconfig.u.resp: result, flags (no file key, no migration key).
      return none(result(CTRL_RC.SUCCESS, 4));
    }
    case CTRL_CMD.SET_BUFFERSIZE: {
      if (n < 4) return none(result(CTRL_RC.BAD_PARAMETER));
      const wanted = u32be(body, 0);
      if (wanted > 0 && t.isRunning()) return none(result(CTRL_RC.BAD_ORDINAL));
      // Our engines have one buffer size: a request to change it (TPM stopped) is answered with
      // the size that stays in use, which is what the response field means.
      const { min, max } = BUFFER_LIMITS[t.family];
      const out = result(CTRL_RC.SUCCESS, 12);
      putU32be(out, 4, t.bufferSize);
      putU32be(out, 8, min);
      putU32be(out, 12, max);
      return none(out);
    }
    case CTRL_CMD.GET_INFO: {
      if (n < 16) return none(result(CTRL_RC.BAD_PARAMETER));
      const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
      const flags = dv.getBigUint64(0);
      const offset = dv.getUint32(8);
      const text = new TextEncoder().encode(infoString(t.family, flags));
      if (offset >= text.length) return none(result(CTRL_RC.BAD_PARAMETER));
      // Response: result, total length and chunk length (both counting the NUL), chunk.
      const chunk = Math.min(text.length + 1 - offset, 3 * 1024);
      const out = result(CTRL_RC.SUCCESS, 8 + chunk);
      putU32be(out, 4, text.length + 1);
      putU32be(out, 8, chunk);
      out.set(text.subarray(offset, offset + chunk), 12);
      return none(out);
    }
    default:
      // Unknown commands, and those we do not implement (GET/SET_STATEBLOB, SET_DATAFD), answer
      // as swtpm answers an unknown command.
      return none(result(CTRL_RC.BAD_ORDINAL));
  }
}

export const CTRL_CMD_NAME: Record<number, string> = Object.fromEntries(Object.entries(CTRL_CMD).map(([k, v]) => [v, k]));
