/**
 * swtpm's data channel as pure functions: where one TPM command ends in the received bytes, the
 * optional TCG TPM 2.0 send-command prefix, and the error responses swtpm writes itself.
 *
 * swtpm 0.7 (src/swtpm/swtpm_io.c SWTPM_IO_Read) does not frame commands by their size field: it
 * reads what has arrived, at least the 10-byte header and at most its buffer (TPM_BUFFER_MAX plus
 * the 9-byte send-command prefix), and gives that to libtpms, which answers a size mismatch with
 * its own error. We do the same, except that when the header announces more bytes than arrived
 * (and no more than the buffer) we wait a short grace time for the rest before answering, so a
 * command split into several TCP segments is not cut.
 */
import { putU16be, putU32be, u16be, u32be } from '../bytes/index.js';
import type { Locality, TpmFamily } from '../tpm/engine.js';

export const TPM_HEADER_SIZE = 10;
/** sizeof(struct tpm2_send_command_prefix): u32 TPM_SEND_COMMAND, u8 locality, u32 size (packed). */
export const SEND_COMMAND_PREFIX_SIZE = 9;
/** The command code of the TCG (MS simulator) send-command prefix. */
export const TPM2_SEND_COMMAND = 8;

/** swtpm's command buffer: TPM_BUFFER_MAX plus the send-command prefix (mainloop.c). */
export function maxDataRead(bufferSize: number): number {
  return bufferSize + SEND_COMMAND_PREFIX_SIZE;
}

/**
 * One command off the front of `buf`, or null to wait for more bytes. `graceOver` is set once the
 * grace time for an incomplete command has passed: then whatever arrived (≥ 10 bytes) is taken.
 */
export function takeDataCommand(buf: Uint8Array, maxRead: number, graceOver: boolean): { command: Uint8Array; rest: Uint8Array } | null {
  if (buf.length < TPM_HEADER_SIZE) return null;
  const announced = u32be(buf, 2);
  if (!graceOver && announced > buf.length && announced <= maxRead) return null;
  const take = Math.min(buf.length, maxRead);
  return { command: buf.subarray(0, take), rest: buf.subarray(take) };
}

/**
 * swtpm's tpmlib_handle_tcg_tpm2_cmd_header: a TPM 2.0 command may come wrapped in the TCG
 * send-command prefix (u32 8, u8 locality, u32 size); the response then gets a u32 size prefix
 * and a u32 0 trailer. Returns null for a plain command.
 */
export function unwrapSendCommand(family: TpmFamily, buf: Uint8Array): { locality: number; command: Uint8Array } | null {
  if (family !== '2.0' || buf.length < TPM_HEADER_SIZE) return null;
  const tag = u16be(buf, 0);
  if (tag === 0x8001 || tag === 0x8002) return null;
  if (u32be(buf, 0) !== TPM2_SEND_COMMAND) return null;
  return { locality: buf[4] ?? 0, command: buf.subarray(SEND_COMMAND_PREFIX_SIZE) };
}

export function wrapSendCommandResponse(rsp: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + rsp.length + 4);
  putU32be(out, 0, rsp.length);
  out.set(rsp, 4);
  return out;
}

/** A bare 10-byte error response in the family's format (swtpm tpmlib_write_error_response). */
export function errorResponse(family: TpmFamily, rc: number): Uint8Array {
  const out = new Uint8Array(TPM_HEADER_SIZE);
  putU16be(out, 0, family === '2.0' ? 0x8001 : 0x00c4);
  putU32be(out, 2, TPM_HEADER_SIZE);
  putU32be(out, 6, rc >>> 0);
  return out;
}

/** What swtpm answers on the data channel while the TPM is stopped: TPM_FAIL / TPM_RC_FAILURE. */
export function notRunningResponse(family: TpmFamily): Uint8Array {
  return errorResponse(family, family === '2.0' ? 0x101 : 0x09);
}

/**
 * Our answer while a locality held over /mmio owns the TIS (the socket's command cannot reach the
 * TPM, as /drtm cannot): TPM_RETRY (TPM 1.2, 0x800) / TPM_RC_RETRY (TPM 2.0, 0x922), "the TPM is
 * busy, send it again later". tpm2-tss retries TPM_RC_RETRY a few times, then reports it.
 */
export function busyResponse(family: TpmFamily): Uint8Array {
  return errorResponse(family, family === '2.0' ? 0x922 : 0x800);
}

export function isLocalityByte(n: number): n is Locality {
  return Number.isInteger(n) && n >= 0 && n <= 4;
}
