import { errors, type Adapter, type AdapterFactory, type AdapterPayload } from 'oidc-provider';
import type { OidcPayloadStore } from './oidc-payload.store.js';
import { PROVIDER_SCOPES } from './scopes.js';
import { forgetArtefacts, prefetchKey, remember, take } from './request-prefetch.js';

const KNOWN_SCOPES = new Set(PROVIDER_SCOPES);

/**
 * Where a tenant's clients come from: the clients table, read-only for the provider. The answer
 * is shared and read-only, and stays the same object until the client changes.
 */
export interface ClientSource {
  getProviderMetadata(
    tenantId: string,
    clientId: string,
  ): Promise<Record<string, unknown> | undefined>;
}

/** Whether a JSON value holds U+0000 in any string or key (PostgreSQL text and jsonb refuse it). */
export function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value))
      if (key.includes('\0') || holdsNul(v)) return true;
  }
  return false;
}

/**
 * A deep copy made with JSON: the values are JSON data, and unlike structuredClone the copy's
 * objects belong to the caller's realm, which oidc-provider's plain-object checks require
 * (under jest's VM modules structuredClone answers objects of another realm).
 */
function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
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
    const shared = await this.clients.getProviderMetadata(this.tenantId, id);
    if (!shared) return undefined;
    // oidc-provider normalises (mutates) what it is given; the source's object is shared.
    const metadata = jsonCopy(shared);
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

/**
 * One model of one tenant over the shared `oidc_payloads` table. A token's grant, bound session
 * and user come back with the token and are kept for the rest of the request, where
 * oidc-provider asks for them next (see request-prefetch.ts); writes drop what was kept.
 */
class PayloadAdapter implements Adapter {
  constructor(
    private readonly tenantId: string,
    private readonly model: string,
    private readonly store: OidcPayloadStore,
  ) {}

  upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    forgetArtefacts();
    // Request parameters travel in payloads (an interaction keeps the authorization request),
    // and a jsonb value cannot hold NUL: refused here, as the client's mistake it is, rather
    // than failing the write at the end of the request.
    if (holdsNul(payload)) {
      return Promise.reject(
        new errors.InvalidRequest('parameters must not contain NUL characters'),
      );
    }
    return this.store.upsert(
      this.tenantId,
      this.model,
      id,
      payload as Record<string, unknown>,
      expiresIn,
    );
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (this.model === 'Grant') {
      const kept = take<AdapterPayload>(prefetchKey.grant(id));
      if (kept.found) return kept.value;
    }
    const found = await this.store.find(this.tenantId, this.model, id);
    if (found.grant) remember(prefetchKey.grant(found.grant.id), found.grant.payload);
    if (found.session) remember(prefetchKey.sessionByUid(found.session.uid), found.session.payload);
    if (found.account) remember(prefetchKey.account(found.account.id), found.account.user);
    return found.payload as AdapterPayload | undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return (await this.store.findByUserCode(this.tenantId, this.model, userCode)) as
      AdapterPayload | undefined;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    if (this.model === 'Session') {
      const kept = take<AdapterPayload>(prefetchKey.sessionByUid(uid));
      if (kept.found) return kept.value;
    }
    return (await this.store.findByUid(this.tenantId, this.model, uid)) as
      AdapterPayload | undefined;
  }

  /**
   * Conditional for codes, refresh tokens and device codes (OidcPayloadStore.consume). Marking
   * one consumed changes no grant, session or user, so what was kept for the request stays: the
   * device grant reads its grant after consuming, and that read would otherwise apply the
   * consume on its own, ahead of the tokens it must commit with.
   */
  consume(id: string): Promise<void> {
    return this.store.consume(this.tenantId, this.model, id);
  }

  destroy(id: string): Promise<void> {
    forgetArtefacts();
    return this.store.destroy(this.tenantId, this.model, id);
  }

  revokeByGrantId(grantId: string): Promise<void> {
    forgetArtefacts();
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

type ClientClass = { find(id: string): Promise<unknown> };

/**
 * oidc-provider rebuilds a client from its metadata on every lookup: it copies the metadata,
 * serialises and hashes it to find the Client it made before. The metadata a ClientSource
 * answers is the same object until the client changes, so the Client is kept per metadata
 * object and found without that work. The source is still asked every time (it holds the
 * brute-force check of client authentication and sees client changes in every replica).
 */
export function reuseClientInstances(
  provider: { Client: unknown },
  tenantId: string,
  clients: ClientSource,
): void {
  const Client = provider.Client as ClientClass;
  const build = Client.find.bind(Client);
  const instances = new WeakMap<object, unknown>();
  Client.find = async (id: string) => {
    if (typeof id !== 'string' || !id) return undefined;
    const metadata = await clients.getProviderMetadata(tenantId, id);
    if (!metadata) return undefined;
    let client = instances.get(metadata);
    if (!client) {
      client = await build(id);
      if (client) instances.set(metadata, client);
    }
    return client;
  };
}
