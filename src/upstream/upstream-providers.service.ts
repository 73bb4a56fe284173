import { Inject, Injectable } from '@nestjs/common';
import { SecretBox } from '../../libs/crypto/index.js';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { UpstreamProviderEntity } from './upstream-provider.entity.js';

/** What a sealed upstream client secret is bound to: its tenant and provider. */
export const upstreamSecretAad = (tenantId: string, providerId: string) =>
  `tenant:${tenantId}:upstream-provider:${providerId}:client-secret`;

/** An admin-chosen provider id: used in URLs, so lower-case letters, digits and dashes. */
export const PROVIDER_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * A tenant's upstream identity providers (issue 21): what the sign-in flow reads (enabled
 * providers, one provider, its client secret) and the admin API's changes.
 */
@Injectable()
export class UpstreamProvidersService {
  protected readonly box: SecretBox;

  constructor(
    @InjectTenantRepository(UpstreamProviderEntity)
    protected readonly providers: TenantRepository<UpstreamProviderEntity>,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.box = new SecretBox(config.masterKey);
  }

  /** The providers the sign-in page offers, in the admin's order. */
  listEnabled(tenantId: string): Promise<UpstreamProviderEntity[]> {
    return this.providers.find(tenantId, {
      where: { enabled: true },
      order: { display_order: 'ASC', label: 'ASC', provider_id: 'ASC' },
    });
  }

  /** One provider, enabled or not; null when the tenant has none by that id. */
  find(tenantId: string, providerId: string): Promise<UpstreamProviderEntity | null> {
    if (!PROVIDER_ID.test(providerId)) return Promise.resolve(null);
    return this.providers.findOne(tenantId, { provider_id: providerId });
  }

  /** The provider's client secret in clear, for the token request; null when it has none. */
  openSecret(row: UpstreamProviderEntity): string | null {
    if (!row.client_secret_sealed) return null;
    return this.box.openString(
      row.client_secret_sealed,
      upstreamSecretAad(row.tenant_id, row.provider_id),
    );
  }

  /** A client secret sealed for storage on this provider. */
  sealSecret(tenantId: string, providerId: string, secret: string): string {
    return this.box.seal(secret, upstreamSecretAad(tenantId, providerId));
  }
}
