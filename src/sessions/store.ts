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
