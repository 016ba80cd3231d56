/** pumpChunks: a body stream read in flowing mode with limitedChunks' rules, pausing for slow consumers. */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pumpChunks } from '../../src/http/body.js';
import { DomainError } from '../../src/errors.js';

const bytes = (n: number, v: number): Buffer => Buffer.alloc(n, v);

describe('pumpChunks', () => {
  it('hands every chunk over in order; a promise from the consumer pauses the stream until it settles', async () => {
    const src = new PassThrough();
    const got: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const done = pumpChunks(src, 1 << 20, 'the upload', (c): void | Promise<void> => {
      got.push(c[0] ?? -1);
      if ((c[0] ?? 0) % 2 === 1) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return new Promise<void>((r) =>
          setTimeout(() => {
            inFlight--;
            r();
          }, 5),
        );
      }
      return undefined;
    });
    for (let i = 0; i < 20; i++) src.write(bytes(1000, i));
    src.end();
    await done;
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(maxInFlight).toBe(1);
  });

  it('413 past the limit; upload-aborted when the stream closes before its end or fails; 413 for a multipart file over its limit', async () => {
    const over = new PassThrough();
    const p1 = pumpChunks(over, 1500, 'the upload', () => undefined);
    over.write(bytes(1000, 1));
    over.write(bytes(1000, 2));
    await expect(p1).rejects.toMatchObject({ kind: 'payload-too-large' });

    const cut = new PassThrough();
    const p2 = pumpChunks(cut, 1 << 20, 'the upload', () => undefined);
    cut.write(bytes(10, 1));
    cut.destroy();
    await expect(p2).rejects.toMatchObject({ kind: 'upload-aborted' });

    const failing = new PassThrough();
    const p3 = pumpChunks(failing, 1 << 20, 'the upload', () => undefined);
    failing.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    await expect(p3).rejects.toMatchObject({ kind: 'upload-aborted' });

    const big = new PassThrough();
    const p4 = pumpChunks(big, 1 << 20, 'the upload', () => undefined);
    big.destroy(Object.assign(new Error('file too large'), { code: 'FST_REQ_FILE_TOO_LARGE' }));
    await expect(p4).rejects.toMatchObject({ kind: 'payload-too-large' });

    const gone = new PassThrough();
    gone.destroy();
    await new Promise((r) => setImmediate(r));
    await expect(pumpChunks(gone, 10, 'the upload', () => undefined)).rejects.toBeInstanceOf(DomainError);
  });

  it('a consumer that throws, or whose promise rejects, fails the pump with its error', async () => {
    const a = Readable.from([bytes(4, 1), bytes(4, 2)]);
    await expect(pumpChunks(a, 100, 'x', () => { throw new DomainError('invalid-request', 'no'); })).rejects.toMatchObject({ kind: 'invalid-request' });
    const b = new PassThrough();
    const p = pumpChunks(b, 100, 'x', () => Promise.reject(new DomainError('memory-exhausted', 'full')));
    b.write(bytes(4, 1));
    await expect(p).rejects.toMatchObject({ kind: 'memory-exhausted' });
  });

  it('an async iterable that is not a node stream is read with limitedChunks', async () => {
    async function* gen(): AsyncGenerator<Buffer> {
      yield bytes(3, 7);
      yield bytes(3, 8);
    }
    const got: number[] = [];
    await pumpChunks(gen(), 100, 'x', (c) => void got.push(c.length));
    expect(got).toEqual([3, 3]);
    await expect(pumpChunks(gen(), 5, 'x', () => undefined)).rejects.toMatchObject({ kind: 'payload-too-large' });
  });
});
