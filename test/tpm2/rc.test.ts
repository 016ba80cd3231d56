/**
 * TPM_RC registry and decoder (TPM 2.0 Library Part 2 §6.6; ms-tpm-20-ref `TpmTypes.h`).
 */
import { describe, expect, it } from 'vitest';
import { decodeRc, rcName, rcSafeAdd, TPM_RC } from '../../src/tpm2/index.js';

describe('TPM_RC registry (Part 2 §6.6, ms-tpm-20-ref TpmTypes.h)', () => {
  it('every name has its own value', () => {
    const values = Object.values(TPM_RC);
    expect(new Set(values).size).toBe(values.length);
  });
  it('TpmTypes.h values', () => {
    expect(TPM_RC.INITIALIZE).toBe(0x100);
    expect(TPM_RC.COMMAND_CODE).toBe(0x143);
    expect(TPM_RC.HASH).toBe(0x083);
    expect(TPM_RC.OBJECT_MEMORY).toBe(0x902);
    expect(TPM_RC.LOCALITY).toBe(0x907);
    expect(TPM_RC.REFERENCE_H0).toBe(0x910);
  });
});

describe('decodeRc: which handle, parameter or session is at fault (Part 2 §6.6.3)', () => {
  const rows: [string, number, Partial<ReturnType<typeof decodeRc>>][] = [
    ['success', 0x000, { name: 'TPM_RC_SUCCESS', format: 'success' }],
    ['bad tag', 0x01e, { name: 'TPM_RC_BAD_TAG', format: 'format0' }],
    ['bad PCR handle in handle 1 (TPM_RC_VALUE + TPM_RC_H + TPM_RC_1)', 0x184, { name: 'TPM_RC_VALUE', handle: 1, base: 0x084 }],
    ['unsupported hash in parameter 1 (TPM_RC_HASH + TPM_RC_P + TPM_RC_1)', 0x1c3, { name: 'TPM_RC_HASH', parameter: 1 }],
    ['value in parameter 2', 0x2c4, { name: 'TPM_RC_VALUE', parameter: 2 }],
    ['mode on handle 2 (EventSequenceComplete on a hash sequence)', 0x289, { name: 'TPM_RC_MODE', handle: 2 }],
    ['bad password, session 1', 0x9a2, { name: 'TPM_RC_BAD_AUTH', session: 1 }],
    ['extra session 2', 0xa8b, { name: 'TPM_RC_HANDLE', session: 2 }],
    ['fourth session', 0xc95, { name: 'TPM_RC_SIZE', session: 4 }],
    ['format-1 without qualifier', 0x095, { name: 'TPM_RC_SIZE', format: 'format1' }],
    ['initialize', 0x100, { name: 'TPM_RC_INITIALIZE', format: 'format0' }],
    ['locality warning', 0x907, { name: 'TPM_RC_LOCALITY', format: 'warning' }],
    ['object memory', 0x902, { name: 'TPM_RC_OBJECT_MEMORY', format: 'warning' }],
    ['unloaded handle 1', 0x910, { name: 'TPM_RC_REFERENCE_H0', handle: 1 }],
    ['unloaded handle 2', 0x911, { name: 'TPM_RC_REFERENCE_H0', handle: 2 }],
    ['unloaded session 1', 0x918, { name: 'TPM_RC_REFERENCE_S0', session: 1 }],
    ['TPM 1.2 TPM_BAD_LOCALITY from the control channel', 0x03d, { format: 'tpm12' }],
  ];
  it.each(rows)('%s: 0x%s', (_n, rc, want) => {
    expect(decodeRc(rc)).toMatchObject(want);
  });
  it('rcName says where', () => {
    expect(rcName(0x1c4)).toBe('TPM_RC_VALUE (parameter 1)');
    expect(rcName(0x184)).toBe('TPM_RC_VALUE (handle 1)');
    expect(rcName(0x9a2)).toBe('TPM_RC_BAD_AUTH (session 1)');
    expect(rcName(0x910)).toBe('TPM_RC_REFERENCE_H0 (handle 1)');
    expect(rcName(0x143)).toBe('TPM_RC_COMMAND_CODE');
  });
  it('rcSafeAdd qualifies format-1 codes only', () => {
    expect(rcSafeAdd(TPM_RC.BAD_AUTH, 0x900)).toBe(0x9a2);
    expect(rcSafeAdd(TPM_RC.LOCKOUT, 0x900)).toBe(0x921);
  });
});
