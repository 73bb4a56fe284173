import { Injectable } from '@nestjs/common';

/**
 * Small "something changed" signals for caches that are not a tenant's settings: a topic and a
 * scope (a tenant id, or another key the topic defines). Unlike a tenant event, a signal drops
 * only the caches that listen to its topic: a block starting must not rebuild the tenant's
 * OIDC provider. The InvalidationRelay carries them to the other replicas.
 */
@Injectable()
export class ClusterSignals {
  private readonly listeners = new Map<string, Set<(scope: string) => void>>();
  private relay?: (topic: string, scope: string) => void;

  on(topic: string, listener: (scope: string) => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  setRelay(relay: (topic: string, scope: string) => void) {
    this.relay = relay;
  }

  /** A change made here: tell local listeners and the other replicas. */
  emit(topic: string, scope: string) {
    this.deliverLocally(topic, scope);
    this.relay?.(topic, scope);
  }

  /** A change relayed from another replica. */
  deliverLocally(topic: string, scope: string) {
    for (const listener of this.listeners.get(topic) ?? []) listener(scope);
  }
}
