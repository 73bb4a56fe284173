import { Injectable } from '@nestjs/common';

/** A session ended (`uid` set) or every session of an account ended (`uid` absent). */
export interface SessionEnded {
  tenantId: string;
  accountId: string;
  uid?: string;
}

/**
 * Sessions ended through SessionsService (the account page, the self-service and admin APIs),
 * for what keeps its own view of them: forward-auth voids its cookies on every replica.
 */
@Injectable()
export class SessionEvents {
  private readonly listeners = new Set<(e: SessionEnded) => Promise<void> | void>();

  subscribe(listener: (e: SessionEnded) => Promise<void> | void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Waits for every listener: "signed out" is answered only once it holds everywhere. */
  async emit(e: SessionEnded): Promise<void> {
    await Promise.all([...this.listeners].map((l) => l(e)));
  }
}
