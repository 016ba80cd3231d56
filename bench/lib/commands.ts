/**
 * The fixed mixed command streams for the throughput rows. One "round" is six commands; the same
 * bytes go to every transport (in-process engine, HTTP /commands, swtpm socket), and every response
 * must carry return code 0, so a transport that silently fails cannot look fast.
 */
import { BeWriter, u32be } from '../../src/bytes/index.js';
import { TailChunker, tpm12Commands, tpm2Commands } from '../../src/drivers/index.js';
import { TPM_ALG } from '../../src/hash/index.js';
import { TPM_CAP_PROP, TPM_CAP, TPM_ORD, TPM_TAG } from '../../src/tpm12/index.js';
import { TPM_CAP as TPM2_CAP, TPM_CC, TPM_RS_PW, TPM_ST } from '../../src/tpm2/index.js';

/** Sends one command at the stream's locality; resolves with the raw response. */
export type Send = (cmd: Uint8Array) => Promise<Uint8Array> | Uint8Array;

export const MIX_COMMANDS_PER_ROUND = 6;
/** PCR 18 at locality 2: the DRTM PCR the measurement path extends (TPM 1.2 and 2.0 allow locality 2). */
export const MIX_PCR = 18;
export const MIX_LOCALITY = 2;

const pattern = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

export class CommandFailed extends Error {
  constructor(what: string, rsp: Uint8Array) {
    const rc = rsp.length >= 10 ? u32be(rsp, 6) : -1;
    super(`${what}: return code 0x${(rc >>> 0).toString(16)} (response ${rsp.length} bytes)`);
  }
}

async function ok(what: string, r: Promise<Uint8Array> | Uint8Array): Promise<Uint8Array> {
  const rsp = r instanceof Promise ? await r : r;
  if (rsp.length < 10 || u32be(rsp, 6) !== 0) throw new CommandFailed(what, rsp);
  return rsp;
}

// ---- TPM 1.2 ------------------------------------------------------------------------------------

function cmd12(ordinal: number, body: (w: BeWriter) => void): Uint8Array {
  const w = new BeWriter().u16(TPM_TAG.RQU_COMMAND).u32(0).u32(ordinal);
  body(w);
  return w.patchU32(2, w.length).finish();
}

/** SHA1Update payload: 4032 bytes, the largest multiple of 64 that fits the 4096-byte FIFO. */
export const SHA1_UPDATE_BYTES = 4032;

export const mix12 = {
  extend: cmd12(TPM_ORD.Extend, (w) => w.u32(MIX_PCR).bytes(pattern(20, 1))),
  pcrRead: tpm12Commands.pcrRead12(MIX_PCR),
  sha1Start: tpm12Commands.sha1Start12(),
  sha1Update: tpm12Commands.sha1Update12(pattern(SHA1_UPDATE_BYTES, 2)),
  sha1CompleteExtend: tpm12Commands.sha1CompleteExtend12(MIX_PCR, pattern(17, 3)),
  getCapability: cmd12(TPM_ORD.GetCapability, (w) => w.u32(TPM_CAP.PROPERTY).u32(4).u32(TPM_CAP_PROP.PCR)),
};

/** TPM_Extend, TPM_PcrRead, SHA1Start / SHA1Update(4032) / SHA1CompleteExtend, GetCapability. */
export async function round12(send: Send): Promise<void> {
  await ok('TPM_Extend', send(mix12.extend));
  await ok('TPM_PcrRead', send(mix12.pcrRead));
  await ok('TPM_SHA1Start', send(mix12.sha1Start));
  await ok('TPM_SHA1Update', send(mix12.sha1Update));
  await ok('TPM_SHA1CompleteExtend', send(mix12.sha1CompleteExtend));
  await ok('TPM_GetCapability', send(mix12.getCapability));
}

// ---- TPM 2.0 ------------------------------------------------------------------------------------

function cmd2(tag: number, cc: number, body: (w: BeWriter) => void): Uint8Array {
  const w = new BeWriter().u16(tag).u32(0).u32(cc);
  body(w);
  return w.patchU32(2, w.length).finish();
}

const pcrSelection = (w: BeWriter, pcr: number, algs: readonly number[]): void => {
  w.u32(algs.length);
  for (const a of algs) {
    const bm = new Uint8Array(3);
    bm[pcr >> 3] = 1 << (pcr & 7);
    w.u16(a).u8(3).bytes(bm);
  }
};

export const mix2 = {
  pcrExtend: cmd2(TPM_ST.SESSIONS, TPM_CC.PCR_Extend, (w) => {
    w.u32(MIX_PCR).u32(9).u32(TPM_RS_PW).u16(0).u8(0).u16(0);
    w.u32(2).u16(TPM_ALG.SHA1).bytes(pattern(20, 4)).u16(TPM_ALG.SHA256).bytes(pattern(32, 5));
  }),
  pcrRead: cmd2(TPM_ST.NO_SESSIONS, TPM_CC.PCR_Read, (w) => pcrSelection(w, MIX_PCR, [TPM_ALG.SHA1, TPM_ALG.SHA256])),
  hashSequenceStart: tpm2Commands.hashSequenceStartEvent(),
  updateData: pattern(1024, 6),
  completeData: pattern(17, 7),
  getCapability: cmd2(TPM_ST.NO_SESSIONS, TPM_CC.GetCapability, (w) => w.u32(TPM2_CAP.TPM_PROPERTIES).u32(0x100).u32(8)),
};

/**
 * PCR_Extend(sha1+sha256, PW session), PCR_Read, HashSequenceStart / SequenceUpdate(1024) /
 * EventSequenceComplete, GetCapability(TPM_PROPERTIES).
 */
export async function round2(send: Send): Promise<void> {
  await ok('TPM2_PCR_Extend', send(mix2.pcrExtend));
  await ok('TPM2_PCR_Read', send(mix2.pcrRead));
  const start = await ok('TPM2_HashSequenceStart', send(mix2.hashSequenceStart));
  const handle = u32be(start, 10);
  await ok('TPM2_SequenceUpdate', send(tpm2Commands.sequenceUpdate(handle, mix2.updateData)));
  await ok('TPM2_EventSequenceComplete', send(tpm2Commands.eventSequenceComplete(MIX_PCR, handle, mix2.completeData)));
  await ok('TPM2_GetCapability', send(mix2.getCapability));
}

/**
 * The SHA-1 thread of the TPM-hashing path, split exactly as the FIFO driver splits it
 * (src/drivers TailChunker: 4032-byte SHA1Updates, the last 0..64 bytes in SHA1CompleteExtend).
 * Returns the SHA1CompleteExtend response (hashValue at offset 10).
 */
export async function sha1Thread12(send: Send, chunks: Iterable<Uint8Array>, pcr: number): Promise<Uint8Array> {
  await ok('TPM_SHA1Start', send(tpm12Commands.sha1Start12()));
  const queue: Uint8Array[] = [];
  const chunker = new TailChunker(SHA1_UPDATE_BYTES, (d) => {
    queue.push(tpm12Commands.sha1Update12(d));
    return true;
  });
  const drain = async (): Promise<void> => {
    for (const c of queue.splice(0)) await ok('TPM_SHA1Update', send(c));
  };
  for (const c of chunks) {
    chunker.push(c);
    await drain();
  }
  const tail = chunker.finish() ?? new Uint8Array(0);
  await drain();
  return ok('TPM_SHA1CompleteExtend', send(tpm12Commands.sha1CompleteExtend12(pcr, tail)));
}
