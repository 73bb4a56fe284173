import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import * as opaque from '@serenity-kit/opaque';
import { LRUCache } from 'lru-cache';
import { SecretBox } from '../../libs/crypto/index.js';
import {
  InjectTenantRepository,
  TenantEvents,
  TenantRepository,
} from '../../libs/tenancy/index.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { PinPatternServerSetupEntity } from './pin-pattern.entities.js';

export { opaque };

/** What the sealed setup is bound to: its tenant. */
export const setupAad = (tenantId: string) => `pin-pattern-setup:${tenantId}`;

/**
 * The tenant's OPAQUE server setup: its OPRF seed (which makes every user's OPRF key) and the
 * server's static key pair. Made on first use, stored sealed with the master key (AES-GCM,
 * bound to the tenant), and kept in memory briefly. Without it a stolen registration record
 * cannot test a PIN: that is the whole point of storing it apart from the records.
 */
@Injectable()
export class OpaqueServer implements OnModuleInit {
  private readonly box: SecretBox;
  private readonly cache = new LRUCache<string, Promise<string>>({ max: 10_000, ttl: 60_000 });

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectTenantRepository(PinPatternServerSetupEntity)
    private readonly setups: TenantRepository<PinPatternServerSetupEntity>,
    tenantEvents: TenantEvents,
  ) {
    this.box = new SecretBox(config.masterKey);
    // An import may bring the tenant another setup (or delete it): read it again, every replica.
    tenantEvents.subscribe((e) => this.cache.delete(e.tenantId));
  }

  /** The WebAssembly module compiles once, before the first request. */
  async onModuleInit() {
    await opaque.ready;
  }

  setup(tenantId: string): Promise<string> {
    let pending = this.cache.get(tenantId);
    if (!pending) {
      pending = this.load(tenantId);
      pending.catch(() => this.cache.delete(tenantId));
      this.cache.set(tenantId, pending);
    }
    return pending;
  }

  private async load(tenantId: string): Promise<string> {
    const row = await this.setups.findOne(tenantId, {});
    if (row) return this.box.openString(row.setup_sealed, setupAad(tenantId));
    // Two replicas may both make one: the first insert wins and both read it back.
    await this.setups.insertIgnoringConflicts(
      tenantId,
      [{ setup_sealed: this.box.seal(opaque.server.createSetup(), setupAad(tenantId)) }],
      ['tenant_id'],
    );
    const stored = await this.setups.findOne(tenantId, {});
    if (!stored) throw new Error('the OPAQUE server setup could not be stored');
    return this.box.openString(stored.setup_sealed, setupAad(tenantId));
  }
}
