import { afterAll, beforeAll, expect, it } from 'vitest';
import { Swtpm, describeWithSwtpm } from './swtpm.js';

describeWithSwtpm('swtpm harness (reference peer)', () => {
  let tpm: Swtpm;
  beforeAll(async () => {
    tpm = await Swtpm.start();
  });
  afterAll(async () => {
    await tpm.stop();
  });
  it('PCR 17 reads FF..FF before any dynamic launch (libtpms TPM_PCR_Init)', async () => {
    const r = await tpm.send(Uint8Array.from(Buffer.from('00c10000000e0000001500000011', 'hex')));
    expect(Buffer.from(r).toString('hex')).toBe('00c40000001e00000000' + 'ff'.repeat(20));
  });
  it('dynamic launch through the control channel sets PCR 17 = SHA1(0^20 ‖ SHA1(""))', async () => {
    expect(await tpm.drtm(new Uint8Array(0))).toBe(0);
    const r = await tpm.send(Uint8Array.from(Buffer.from('00c10000000e0000001500000011', 'hex')));
    expect(Buffer.from(r.subarray(10)).toString('hex')).toBe('31a2dc4c22f9c5444a41625d05f95898e055f750');
    expect(await tpm.getEstablished()).toBe(true);
  });
});
