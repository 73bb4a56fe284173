import { Injectable } from '@nestjs/common';

export type UserEvent = {
  /** `credential_added`: a way to sign in was added (the user is told by mail). */
  type: 'disabled' | 'enabled' | 'deleted' | 'password_changed' | 'credential_added';
  tenantId: string;
  userId: string;
  /** With `credential_added`: which one. */
  credential?: { kind: 'passkey' | 'totp'; name?: string };
};

/**
 * What happened to a user that other modules must act on: disabling or deleting a user ends
 * their sessions and tokens (OIDC), and their user API keys stop working.
 */
@Injectable()
export class UserEvents {
  private readonly listeners = new Set<(e: UserEvent) => void | Promise<void>>();

  subscribe(listener: (e: UserEvent) => void | Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Waits for every listener, so "disable" answers only once sessions are gone. */
  async emit(event: UserEvent): Promise<void> {
    await Promise.all([...this.listeners].map((l) => l(event)));
  }
}
