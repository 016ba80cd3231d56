import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../src/sessions/queue.js';

describe('SerialQueue: one task at a time, arrival order', () => {
  it('runs tasks in arrival order even when earlier ones are slower', async () => {
    const q = new SerialQueue();
    const order: number[] = [];
    let running = 0;
    let maxRunning = 0;
    const tasks = Array.from({ length: 10 }, (_, i) =>
      q.run(async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, (10 - i) * 3));
        order.push(i);
        running--;
        return i;
      }),
    );
    expect(await Promise.all(tasks)).toEqual([...Array(10).keys()]);
    expect(order).toEqual([...Array(10).keys()]);
    expect(maxRunning).toBe(1);
  });

  it('a failing task does not stop the queue', async () => {
    const q = new SerialQueue();
    const a = q.run(() => {
      throw new Error('boom');
    });
    const b = q.run(() => 2);
    await expect(a).rejects.toThrow('boom');
    expect(await b).toBe(2);
    expect(q.size).toBe(0);
  });
});
