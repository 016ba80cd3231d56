import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Strict } from '../../src/bytes/index.js';

// The reference encoder is Node's, not ours: RFC 4648 §4 base64 with padding.
const encode = (b: Uint8Array): string => Buffer.from(b).toString('base64');

describe('decodeBase64Strict', () => {
  it('decodes what a standard encoder writes, padded or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(decodeBase64Strict(encode(bytes))).toEqual(bytes);
        expect(decodeBase64Strict(encode(bytes).replace(/=+$/, ''))).toEqual(bytes);
      }),
    );
  });

  it('RFC 4648 §10 test vectors', () => {
    const vectors: [string, string][] = [['', ''], ['Zg==', 'f'], ['Zm8=', 'fo'], ['Zm9v', 'foo'], ['Zm9vYg==', 'foob'], ['Zm9vYmE=', 'fooba'], ['Zm9vYmFy', 'foobar']];
    for (const [b64, text] of vectors) expect(decodeBase64Strict(b64)).toEqual(new TextEncoder().encode(text));
  });

  it('refuses anything outside the standard alphabet, misplaced or excess padding, and a lone 6-bit group', () => {
    for (const bad of ['Zm9v YmFy', 'Zm9v\nYmFy', 'Zm-_', 'Zm9v!', 'Zg===', 'Z=g=', '=Zg=', 'Zm9vY', 'Z', 'Zm9vYmFyZ']) {
      expect(decodeBase64Strict(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});
