import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import type { OidcPayloadStore } from './oidc-payload.store.js';
import { PROVIDER_SCOPES } from './provider-config.js';

const KNOWN_SCOPES = new Set(PROVIDER_SCOPES);

/** Where a tenant's clients come from: the clients table, read-only for the provider. */
export interface ClientSource {
  getProviderMetadata(
    tenantId: string,
    clientId: string,
  ): Promise<Record<string, unknown> | undefined>;
}

/** Client metadata is managed through the API, never by the provider (no dynamic registration). */
class ClientAdapter implements Adapter {
  constructor(
    private readonly tenantId: string,
    private readonly clients: ClientSource,
  ) {}

  /**
   * oidc-provider accepts in a client's `scope` only scopes it knows; a client's own API scopes
   * (orders:read) travel in `api_scopes` instead, and become the scopes of the tenant's resource
   * server for that client (client_credentials JWTs).
   */
  async find(id: string): Promise<AdapterPayload | undefined> {
    const metadata = await this.clients.getProviderMetadata(this.tenantId, id);
    if (!metadata) return undefined;
    const scopes =
      typeof metadata.scope === 'string' ? metadata.scope.split(' ').filter(Boolean) : [];
    return {
      ...metadata,
      scope: scopes.filter((s) => KNOWN_SCOPES.has(s)).join(' ') || undefined,
      api_scopes: scopes.filter((s) => !KNOWN_SCOPES.has(s)),
    } as AdapterPayload;
  }

  async upsert(): Promise<void> {
    throw new Error('clients are managed through the management API');
  }

  async findByUserCode(): Promise<undefined> {
    return undefined;
  }

  async findByUid(): Promise<undefined> {
    return undefined;
  }

  async consume(): Promise<void> {}

  async destroy(): Promise<void> {}

  async revokeByGrantId(): Promise<void> {}
}

/** One model of one tenant over the shared `oidc_payloads` table. */
class PayloadAdapter implements Adapter {
  constructor(
    private readonly tenantId: string,
    private readonly model: string,
    private readonly store: OidcPayloadStore,
  ) {}

  upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    return this.store.upsert(
      this.tenantId,
      this.model,
      id,
      payload as Record<string, unknown>,
      expiresIn,
    );
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return (await this.store.find(this.tenantId, this.model, id)) as AdapterPayload | undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return (await this.store.findByUserCode(this.tenantId, this.model, userCode)) as
      AdapterPayload | undefined;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return (await this.store.findByUid(this.tenantId, this.model, uid)) as
      AdapterPayload | undefined;
  }

  consume(id: string): Promise<void> {
    return this.store.consume(this.tenantId, this.model, id);
  }

  destroy(id: string): Promise<void> {
    return this.store.destroy(this.tenantId, this.model, id);
  }

  revokeByGrantId(grantId: string): Promise<void> {
    return this.store.revokeByGrantId(this.tenantId, this.model, grantId);
  }
}

/** The adapter factory handed to one tenant's Provider. */
export function tenantAdapterFactory(
  tenantId: string,
  store: OidcPayloadStore,
  clients: ClientSource,
): AdapterFactory {
  return (model: string) =>
    model === 'Client'
      ? new ClientAdapter(tenantId, clients)
      : new PayloadAdapter(tenantId, model, store);
}
