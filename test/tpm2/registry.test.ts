/**
 * The dispatch table and the TPM_CC registry list exactly the same commands (Part 2 §6.5.2
 * TPM_CC), and the PC Client PCR attribute table is libtpms 0.9.2's (`PCR.c` s_initAttributes: PCR
 * 20–22 reset localities as swtpm shows them, docs/tpm-quirks.md#pcr-reset-rules).
 */
import { describe, expect, it } from 'vitest';
import { PCR_ATTRIBUTES, TPM_CC, Tpm2Engine } from '../../src/tpm2/index.js';

describe('registries', () => {
  it('every TPM_CC constant is dispatched and every dispatched code has a TPM_CC name', () => {
    expect([...Tpm2Engine.implementedCommands()].sort((a, b) => a - b)).toEqual(Object.values(TPM_CC).sort((a, b) => a - b));
  });
  it('TPM_CC values (ms-tpm-20-ref TpmTypes.h)', () => {
    expect(TPM_CC).toMatchObject({
      PCR_Allocate: 0x0000012b,
      PCR_Event: 0x0000013c,
      PCR_Reset: 0x0000013d,
      SequenceComplete: 0x0000013e,
      SelfTest: 0x00000143,
      Startup: 0x00000144,
      Shutdown: 0x00000145,
      SequenceUpdate: 0x0000015c,
      FlushContext: 0x00000165,
      GetCapability: 0x0000017a,
      GetRandom: 0x0000017b,
      Hash: 0x0000017d,
      PCR_Read: 0x0000017e,
      PCR_Extend: 0x00000182,
      EventSequenceComplete: 0x00000185,
      HashSequenceStart: 0x00000186,
    });
  });
});

describe('PC Client PCR attributes (libtpms 0.9.2 as swtpm reports it)', () => {
  const rows: [string, number[], { stateSave: boolean; resetLocality: number; extendLocality: number }][] = [
    ['0–15 static RTM', [0, 7, 15], { stateSave: true, resetLocality: 0x00, extendLocality: 0x1f }],
    ['16 debug', [16], { stateSave: false, resetLocality: 0x0f, extendLocality: 0x1f }],
    ['17, 18 DRTM', [17, 18], { stateSave: false, resetLocality: 0x10, extendLocality: 0x1c }],
    ['19', [19], { stateSave: false, resetLocality: 0x10, extendLocality: 0x0c }],
    // libtpms master resets 20–22 from 2,3,4 (0x1C); 0.9.2 has 0x14.
    ['20', [20], { stateSave: false, resetLocality: 0x14, extendLocality: 0x0e }],
    ['21, 22', [21, 22], { stateSave: false, resetLocality: 0x14, extendLocality: 0x04 }],
    ['23 application', [23], { stateSave: false, resetLocality: 0x0f, extendLocality: 0x1f }],
  ];
  it.each(rows)('PCR %s', (_n, pcrs, want) => {
    for (const p of pcrs) expect(PCR_ATTRIBUTES[p]).toEqual(want);
  });
  it('24 PCRs', () => expect(PCR_ATTRIBUTES).toHaveLength(24));
});
