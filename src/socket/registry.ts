/**
 * The open socket attachments, one per session at most. Closing a session (delete, expiry) closes
 * its attachment through the session's close hook; CMD_SHUTDOWN on the control channel closes it too.
 */
import type { Session } from '../sessions/session.js';
import { SocketAttachment, type SocketOptions } from './attachment.js';

export class SocketRegistry {
  private readonly open = new Map<string, SocketAttachment>();
  private readonly opening = new Map<string, Promise<SocketAttachment>>();

  constructor(readonly options: SocketOptions) {}

  get(sessionId: string): SocketAttachment | undefined {
    return this.open.get(sessionId);
  }

  /** The session's attachment, opened now when it has none (`created` says which). */
  async attach(session: Session): Promise<{ attachment: SocketAttachment; created: boolean }> {
    const existing = this.open.get(session.id);
    if (existing) return { attachment: existing, created: false };
    const pending = this.opening.get(session.id);
    if (pending) return { attachment: await pending, created: false };
    const p = SocketAttachment.open(session, this.options, () => {
      if (this.open.get(session.id) === att) this.open.delete(session.id);
      unhook();
    });
    let att: SocketAttachment | undefined;
    let unhook: () => void = () => undefined;
    this.opening.set(session.id, p);
    try {
      att = await p;
    } finally {
      this.opening.delete(session.id);
    }
    const opened = att;
    if (session.isClosed) {
      await opened.close();
    } else {
      this.open.set(session.id, opened);
      unhook = session.onClose(() => void opened.close());
    }
    return { attachment: opened, created: true };
  }

  /** Close the session's attachment; false when it had none. */
  async detach(sessionId: string): Promise<boolean> {
    const att = this.open.get(sessionId);
    if (!att) return false;
    await att.close();
    return true;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.values()].map((a) => a.close()));
  }

  get size(): number {
    return this.open.size;
  }
}
