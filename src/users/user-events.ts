import { Injectable } from '@nestjs/common';

export type UserEvent = {
  type: 'disabled' | 'enabled' | 'deleted' | 'password_changed';
  tenantId: string;
  userId: string;
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
