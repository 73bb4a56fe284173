import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export type TenantEvent =
  { type: 'changed'; tenantId: string } | { type: 'deleted'; tenantId: string };

export type TenantCreateHook = (tenantId: string, manager: EntityManager) => Promise<void>;

/**
 * A tenant's lifecycle as seen by other modules.
 * - Create hooks run inside the transaction that inserts the tenant, so a tenant never exists
 *   half-provisioned (signing keys, for example, are made there).
 * - Events tell caches keyed by tenant (API keys, providers) to drop what they hold; a transport
 *   (see src/events) relays them to the other replicas.
 */
@Injectable()
export class TenantEvents {
  private readonly listeners = new Set<(e: TenantEvent) => void>();
  private readonly createHooks: TenantCreateHook[] = [];
  private relay?: (e: TenantEvent) => void;

  subscribe(listener: (e: TenantEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onCreate(hook: TenantCreateHook) {
    this.createHooks.push(hook);
  }

  async runCreateHooks(tenantId: string, manager: EntityManager) {
    for (const hook of this.createHooks) await hook(tenantId, manager);
  }

  /** Installs the cross-replica relay: emit() also hands the event to it. */
  setRelay(relay: (e: TenantEvent) => void) {
    this.relay = relay;
  }

  /** A change made here: tell local listeners and the other replicas. */
  emit(event: TenantEvent) {
    this.deliverLocally(event);
    this.relay?.(event);
  }

  /** A change relayed from another replica. */
  deliverLocally(event: TenantEvent) {
    for (const listener of this.listeners) listener(event);
  }
}
