/**
 * The pure parts of the socket protocol: control-request framing and processing never throw and
 * always answer a u32 result (property tests), and the documented wire layouts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capabilities, CTRL_CMD, CTRL_RC, infoString, processCtrl, takeCtrlRequest, type CtrlTarget } from '../../src/socket/ctrl-protocol.js';
import { maxDataRead, takeDataCommand, unwrapSendCommand } from '../../src/socket/data-protocol.js';

function target(family: '1.2' | '2.0' = '2.0'): CtrlTarget & { calls: string[]; running: boolean; locality: number } {
  const calls: string[] = [];
  return {
    family,
    running: true,
    locality: 0,
    isRunning() {
      return this.running;
    },
    setRunning(v: boolean) {
      this.running = v;
    },
    setLocality(l: number) {
      this.locality = l;
    },
    bufferSize: 4096,
    calls,
    init: (f) => (calls.push(`init ${f}`), 0),
    established: () => true,
    resetEstablished: (l) => (calls.push(`reset ${l}`), l >= 3 ? 0 : CTRL_RC.BAD_LOCALITY),
    hashStart: () => (calls.push('start'), 0),
    hashData: (d) => (calls.push(`data ${d.length}`), 0),
    hashEnd: () => (calls.push('end'), 0),
    storeVolatile: () => (calls.push('store'), 0),
  };
}

const req = (cmd: number, ...payload: number[]) => Uint8Array.from([cmd >>> 24, (cmd >>> 16) & 0xff, (cmd >>> 8) & 0xff, cmd & 0xff, ...payload]);

describe('control channel codec', () => {
  it('never throws on arbitrary bytes and always answers at least a u32 result', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, running) => {
        const t = takeCtrlRequest(bytes);
        if (!t || t.tooLong) return;
        const tg = target();
        tg.running = running;
        const out = processCtrl(t.request, tg);
        expect(out.response.length).toBeGreaterThanOrEqual(4);
        expect(t.request.length + t.rest.length).toBe(bytes.length);
      }),
    );
  });

  it('waits for the fixed request structure and for HASH_DATA payload', () => {
    expect(takeCtrlRequest(req(CTRL_CMD.INIT, 0, 0))).toBeNull();
    expect(takeCtrlRequest(req(CTRL_CMD.INIT, 0, 0, 0, 1))?.request.length).toBe(8);
    expect(takeCtrlRequest(req(CTRL_CMD.HASH_DATA, 0, 0, 0, 3, 1, 2))).toBeNull();
    const hd = takeCtrlRequest(req(CTRL_CMD.HASH_DATA, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 1));
    expect(hd?.request.length).toBe(11);
    expect(hd?.rest.length).toBe(4);
    expect(takeCtrlRequest(req(CTRL_CMD.HASH_DATA, 0, 0, 0x10, 1))?.tooLong).toBe(true);
  });

  it('layouts: GET_CAPABILITY u64, GET_TPMESTABLISHED 8 bytes, SET_BUFFERSIZE 16, GET_INFO with the NUL', () => {
    const t = target('1.2');
    const cap = processCtrl(req(CTRL_CMD.GET_CAPABILITY), t).response;
    expect(cap.length).toBe(8);
    expect(new DataView(cap.buffer).getBigUint64(0)).toBe(capabilities('1.2'));
    expect(Array.from(processCtrl(req(CTRL_CMD.GET_TPMESTABLISHED), t).response)).toEqual([0, 0, 0, 0, 1, 0, 0, 0]);
    expect(processCtrl(req(CTRL_CMD.SET_BUFFERSIZE, 0, 0, 0, 0), t).response.length).toBe(16);
    const info = processCtrl(req(CTRL_CMD.GET_INFO, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0), t).response;
    const text = infoString('1.2', 1n);
    expect(info.length).toBe(12 + text.length + 1);
    expect(new TextDecoder().decode(info.subarray(12, 12 + text.length))).toBe(text);
    expect(info[info.length - 1]).toBe(0);
  });

  it('stopped TPM: running-only commands answer TPM_BAD_ORDINAL; INIT restarts it', () => {
    const t = target();
    expect(processCtrl(req(CTRL_CMD.STOP), t).response[3]).toBe(0);
    expect(t.running).toBe(false);
    for (const c of [CTRL_CMD.HASH_START, CTRL_CMD.GET_TPMESTABLISHED, CTRL_CMD.STORE_VOLATILE, CTRL_CMD.CANCEL_TPM_CMD]) expect(processCtrl(req(c), t).response[3]).toBe(CTRL_RC.BAD_ORDINAL);
    expect(processCtrl(req(CTRL_CMD.SET_BUFFERSIZE, 0, 0, 0, 0), t).response[3]).toBe(0);
    expect(processCtrl(req(CTRL_CMD.INIT, 0, 0, 0, 1), t).response[3]).toBe(0);
    expect(t.running).toBe(true);
    expect(t.calls).toEqual(['init 1']);
    expect(processCtrl(req(CTRL_CMD.SHUTDOWN), t).after).toBe('shutdown');
    expect(processCtrl(req(CTRL_CMD.GET_STATEBLOB), t).response[3]).toBe(CTRL_RC.BAD_ORDINAL);
    expect(processCtrl(req(0x4745_5420), t).response[3]).toBe(CTRL_RC.BAD_ORDINAL);
  });
});

describe('data channel framing', () => {
  const max = maxDataRead(4096);
  it('takes what arrived once the announced size is there or unreachable, never less than a header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9000 }), fc.boolean(), (bytes, grace) => {
        const t = takeDataCommand(bytes, max, grace);
        if (bytes.length < 10) {
          expect(t).toBeNull();
          return;
        }
        const announced = new DataView(bytes.buffer, bytes.byteOffset).getUint32(2);
        if (!grace && announced > bytes.length && announced <= max) {
          expect(t).toBeNull();
          return;
        }
        expect(t?.command.length).toBe(Math.min(bytes.length, max));
        expect((t?.command.length ?? 0) + (t?.rest.length ?? 0)).toBe(bytes.length);
      }),
    );
  });
  it('the TCG send-command prefix only for TPM 2.0 and only with command code 8', () => {
    const wrapped = Uint8Array.from([0, 0, 0, 8, 3, 0, 0, 0, 10, 0x80, 1, 0, 0, 0, 10, 0, 0, 1, 0x44]);
    expect(unwrapSendCommand('2.0', wrapped)?.locality).toBe(3);
    expect(unwrapSendCommand('2.0', wrapped)?.command.length).toBe(10);
    expect(unwrapSendCommand('1.2', wrapped)).toBeNull();
    expect(unwrapSendCommand('2.0', wrapped.subarray(9))).toBeNull();
  });
});
