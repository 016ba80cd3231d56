/** Wrap a session store's commits (timing them, failing them) without touching its other methods. No vitest here. */
import type { SessionStore, SessionWrite, StoreLock, StoreTxn } from '../../src/sessions/store.js';

/** `store`, except that every transaction's commit goes through `around(write, commit)`. */
export function aroundCommits(store: SessionStore, around: (w: SessionWrite, commit: () => Promise<void>) => Promise<void>): SessionStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'begin') {
        return async (id: string, lock?: StoreLock): Promise<StoreTxn> => {
          const txn = await target.begin(id, lock);
          return {
            get version() {
              return txn.version;
            },
            load: () => txn.load(),
            changes: (v: number, known: number) => txn.changes(v, known),
            abort: () => txn.abort(),
            commit: (w) => around(w, () => txn.commit(w)),
          };
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
