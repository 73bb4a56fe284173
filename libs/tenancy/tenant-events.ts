import { Injectable } from '@nestjs/common';

export type TenantEvent =
  { type: 'changed'; tenantId: string } | { type: 'deleted'; tenantId: string };

/**
 * In-process notifications about a tenant's lifecycle, so caches keyed by tenant (API keys,
 * providers) drop what they hold. Cross-replica delivery plugs in behind the same interface.
 */
@Injectable()
export class TenantEvents {
  private readonly listeners = new Set<(e: TenantEvent) => void>();

  subscribe(listener: (e: TenantEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: TenantEvent) {
    for (const listener of this.listeners) listener(event);
  }
}
