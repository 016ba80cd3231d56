import { describe, expect, it } from 'vitest';
import { rcName } from '../../src/tpm/rc-name.js';

describe('rcName(family, rc)', () => {
  it('names a TPM 1.2 return code (TPM Main Part 2 §16)', () => {
    expect(rcName('1.2', 0x3d)).toBe('TPM_BAD_LOCALITY');
    expect(rcName('1.2', 0)).toBe('TPM_SUCCESS');
  });
  it('names a TPM 2.0 response code with its qualifier (Part 2 §6.6)', () => {
    expect(rcName('2.0', 0x1c4)).toBe('TPM_RC_VALUE (parameter 1)');
    expect(rcName('2.0', 0x143)).toBe('TPM_RC_COMMAND_CODE');
  });
  it('the same number means different things per family', () => {
    expect(rcName('1.2', 0x3d)).not.toBe(rcName('2.0', 0x3d));
  });
});
