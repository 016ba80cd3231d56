/**
 * Session store behind an interface. In memory for now; a durable store (SQLite, PostgreSQL)
 * slots in by persisting `Session.snapshot()` plain data.
 */
import type { Session } from './session.js';

export interface SessionStore {
  get(id: string): Session | undefined;
  put(session: Session): void;
  delete(id: string): boolean;
  list(): Session[];
  readonly size: number;
  /**
   * Whether the store answers (SQLite open, PostgreSQL reachable): GET /readyz is 200 only when it
   * resolves true. Optional: a store without it (the in-memory one) is always ready.
   */
  ready?(): Promise<boolean>;
  /**
   * The app hands the store a function to report each commit's duration in seconds (the metric
   * tpm_measure_store_commit_duration_seconds). Optional: the in-memory store has no commits.
   */
  observeCommits?(observe: (seconds: number) => void): void;
  /** Release the store (close the database) when the app closes. Optional. */
  close?(): Promise<void>;
}

export class InMemorySessionStore implements SessionStore {
  private readonly map = new Map<string, Session>();
  get(id: string): Session | undefined {
    return this.map.get(id);
  }
  put(session: Session): void {
    this.map.set(session.id, session);
  }
  delete(id: string): boolean {
    return this.map.delete(id);
  }
  list(): Session[] {
    return [...this.map.values()];
  }
  get size(): number {
    return this.map.size;
  }
}
