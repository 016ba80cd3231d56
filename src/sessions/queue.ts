/**
 * One in-process queue per session: tasks run one at a time in arrival order (a PCR
 * read between SHA-1 thread updates would kill the thread, so nothing may interleave:
 * docs/tpm-quirks.md#sha-1-thread).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  run<T>(task: () => Promise<T> | T): Promise<T> {
    this.pending++;
    const result = this.tail.then(task);
    this.tail = result.then(
      () => this.pending--,
      () => this.pending--,
    );
    return result;
  }

  get size(): number {
    return this.pending;
  }
}
