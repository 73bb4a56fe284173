import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DataSource, In, type EntityManager } from 'typeorm';
import { constantTimeEqual, randomToken, SecretBox } from '../../libs/crypto/index.js';
import {
  InjectTenantRepository,
  isValidTenantId,
  TenantEvents,
  TenantRepository,
} from '../../libs/tenancy/index.js';
import { outboundUrlProblem, type OutboundPolicy } from '../common/outbound-url.js';
import { page, type Page } from '../common/pagination.js';
import { badRequest, conflict, notFound } from '../common/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { TenantsService } from '../tenants/tenants.service.js';
import {
  applicationType,
  CLIENT_ID_PATTERN,
  clientDefaults,
  clientProblems,
  type ClientSettings,
} from './client-rules.js';
import { ClientEntity } from './client.entity.js';
import { settingsOf, toClientDto, withGiven } from './client-fields.js';
import { clientSecretProblem, foldClientAliases } from './seed-fields.js';
import type {
  ClientDisplayDto,
  ClientDto,
  ClientFieldsDto,
  ClientListQuery,
  ClientWithSecretDto,
  CreateClientDto,
  ReplaceClientDto,
  UpdateClientDto,
} from './dto/client.dto.js';

/** Freezes JSON data all the way down: shared metadata must not be changed by any reader. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Provider metadata is read on every OIDC request naming a client; unknown ids only briefly. */
const METADATA_TTL_MS = 10 * 60_000;
const UNKNOWN_CLIENT_TTL_MS = 30_000;

/** 128 random bits in hex: safe in URLs, forms and Basic auth without encoding. */
function newClientId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * OIDC clients of a tenant. Secrets exist in clear only in the create and regenerate answers
 * and in the provider metadata handed to oidc-provider; at rest they are sealed with the master
 * key, bound to (tenant, client) so a sealed value copied to another row does not open.
 */
@Injectable()
export class ClientsService {
  private readonly box: SecretBox;
  private readonly outbound: OutboundPolicy;
  private readonly metadata = new LRUCache<string, { value?: Record<string, unknown> }>({
    max: 20_000,
    ttl: METADATA_TTL_MS,
  });
  /** Bumped on every tenant event: a load that raced a change does not cache what it read. */
  private generation = 0;

  constructor(
    @InjectTenantRepository(ClientEntity) private readonly clients: TenantRepository<ClientEntity>,
    private readonly dataSource: DataSource,
    private readonly tenants: TenantsService,
    private readonly events: TenantEvents,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.box = new SecretBox(config.masterKey);
    this.outbound = { allowPrivate: config.outboundAllowPrivate };
    events.subscribe((e) => this.forgetTenant(e.tenantId));
  }

  /** Which of these ids are clients of the tenant (one statement; inside `m` when given). */
  async existingIds(
    tenantId: string,
    clientIds: string[],
    m?: EntityManager,
  ): Promise<Set<string>> {
    if (!clientIds.length) return new Set();
    const found = await this.clients.find(
      tenantId,
      { where: { client_id: In(clientIds) }, select: { client_id: true } },
      m,
    );
    return new Set(found.map((c) => c.client_id));
  }

  private forgetTenant(tenantId: string) {
    this.generation += 1;
    const prefix = `${tenantId}\n`;
    for (const key of this.metadata.keys()) {
      if (key.startsWith(prefix)) this.metadata.delete(key);
    }
  }

  private changed(tenantId: string) {
    this.events.emit({ type: 'changed', tenantId });
  }

  private secretAad(tenantId: string, clientId: string) {
    return `tenant:${tenantId}:client:${clientId}:secret`;
  }

  /**
   * A jwks_uri is fetched by the server: it must be https and resolve to public addresses only
   * (common/outbound-url.ts), checked when it is set. Unchanged URLs are not looked up again.
   */
  private async assertFetchable(given: {
    jwks_uri?: string | null;
    backchannel_logout_uri?: string | null;
  }) {
    for (const field of ['jwks_uri', 'backchannel_logout_uri'] as const) {
      const uri = given[field];
      if (typeof uri !== 'string') continue;
      const problem = await outboundUrlProblem(uri, this.outbound);
      if (problem)
        throw badRequest('1 client setting failed validation', [{ field, message: problem }]);
    }
  }

  private assertValid(s: ClientSettings) {
    const errors = clientProblems(s);
    if (errors.length) {
      throw badRequest(
        `${errors.length} client setting${errors.length === 1 ? '' : 's'} failed validation`,
        errors,
      );
    }
  }

  /**
   * The seed's spellings folded onto ours (in place), its `tenant_id` checked against the path,
   * and a caller-chosen secret checked for strength; answers that secret, if any.
   */
  private seedInput(tenantId: string, dto: ClientFieldsDto): string | undefined {
    foldClientAliases(dto);
    if (dto.tenant_id !== undefined && dto.tenant_id !== tenantId) {
      throw badRequest('tenant_id does not match the path', [
        { field: 'tenant_id', message: 'must equal the tenant in the path' },
      ]);
    }
    const secret = dto.client_secret ?? undefined;
    const problem = secret === undefined ? null : clientSecretProblem(secret);
    if (problem) {
      throw badRequest('1 client setting failed validation', [
        { field: 'client_secret', message: problem },
      ]);
    }
    return secret;
  }

  private static noSecretForPublic() {
    return badRequest('A public client has no secret', [
      { field: 'client_secret', message: 'only confidential clients have a secret' },
    ]);
  }

  async create(tenantId: string, dto: CreateClientDto): Promise<ClientWithSecretDto> {
    const chosen = this.seedInput(tenantId, dto);
    if (chosen !== undefined && dto.client_type !== 'confidential') {
      throw ClientsService.noSecretForPublic();
    }
    const settings = withGiven(
      { ...clientDefaults(dto.client_type), name: dto.name, client_type: dto.client_type },
      dto,
    );
    this.assertValid(settings);
    await this.assertFetchable(settings);
    const clientId = dto.client_id ?? newClientId();
    const secret =
      settings.client_type === 'confidential' ? (chosen ?? randomToken(32)) : undefined;
    const now = new Date();
    const row = {
      ...settings,
      client_id: clientId,
      secret_sealed: secret ? this.box.seal(secret, this.secretAad(tenantId, clientId)) : null,
      created_at: now,
      updated_at: now,
    };
    const inserted = await this.clients.insertIgnoringConflicts(tenantId, [row], ['client_id']);
    if (!inserted.length) throw conflict('client_id', `Client ${clientId} already exists`);
    this.changed(tenantId);
    const created = toClientDto({ ...row, tenant_id: tenantId });
    return secret ? { ...created, client_secret: secret } : created;
  }

  async list(tenantId: string, q: ClientListQuery): Promise<Page<ClientDto>> {
    const dir = q.sort_direction === -1 ? 'DESC' : 'ASC';
    const [rows, total] = await this.clients.findAndCount(tenantId, {
      order: { [q.sort_by]: dir, client_id: dir },
      take: q.limit,
      skip: q.offset,
    });
    return page(rows.map(toClientDto), total, q);
  }

  private async load(tenantId: string, clientId: string, m?: EntityManager): Promise<ClientEntity> {
    if (!CLIENT_ID_PATTERN.test(clientId)) throw notFound('Client');
    const found = m
      ? await this.clients
          .query(tenantId, 'c', m)
          .andWhere('c.client_id = :clientId', { clientId })
          .setLock('pessimistic_write')
          .getOne()
      : await this.clients.findOne(tenantId, { client_id: clientId });
    if (!found) throw notFound('Client');
    return found;
  }

  async get(tenantId: string, clientId: string): Promise<ClientDto> {
    return toClientDto(await this.load(tenantId, clientId));
  }

  /** PUT: what the body does not name returns to its default; type and id stay. */
  replace(tenantId: string, clientId: string, dto: ReplaceClientDto): Promise<ClientDto> {
    return this.write(tenantId, clientId, dto, (current) =>
      withGiven(
        {
          ...clientDefaults(current.client_type),
          name: dto.name,
          client_type: current.client_type,
        },
        dto,
      ),
    );
  }

  /** PATCH: only what the body names changes; the result is judged as a whole. */
  update(tenantId: string, clientId: string, dto: UpdateClientDto): Promise<ClientDto> {
    return this.write(tenantId, clientId, dto, (current) => withGiven(settingsOf(current), dto));
  }

  private async write(
    tenantId: string,
    clientId: string,
    dto: ClientFieldsDto & { client_id?: string; client_type?: string },
    next: (current: ClientEntity) => ClientSettings,
  ): Promise<ClientDto> {
    const chosen = this.seedInput(tenantId, dto);
    if (dto.client_id !== undefined && dto.client_id !== clientId) {
      throw badRequest('client_id cannot be changed', [
        { field: 'client_id', message: 'must equal the client id in the path' },
      ]);
    }
    await this.assertFetchable(dto);
    // Row lock: two concurrent PATCHes of different fields both land.
    const saved = await this.dataSource.transaction(async (m) => {
      const current = await this.load(tenantId, clientId, m);
      if (dto.client_type !== undefined && dto.client_type !== current.client_type) {
        throw badRequest('client_type cannot be changed', [
          {
            field: 'client_type',
            message: `must stay ${current.client_type}: create a new client for another type`,
          },
        ]);
      }
      const settings = next(current);
      this.assertValid(settings);
      if (chosen !== undefined && current.client_type !== 'confidential') {
        throw ClientsService.noSecretForPublic();
      }
      const updatedAt = new Date();
      const secret =
        chosen === undefined
          ? {}
          : { secret_sealed: this.box.seal(chosen, this.secretAad(tenantId, clientId)) };
      await this.clients.update(
        tenantId,
        { client_id: clientId },
        { ...settings, ...secret, updated_at: updatedAt },
        m,
      );
      return { ...current, ...settings, updated_at: updatedAt };
    });
    this.changed(tenantId);
    return toClientDto(saved);
  }

  async remove(tenantId: string, clientId: string): Promise<void> {
    if (!CLIENT_ID_PATTERN.test(clientId)) throw notFound('Client');
    const removed = await this.clients.delete(tenantId, { client_id: clientId });
    if (!removed) throw notFound('Client');
    this.changed(tenantId);
  }

  /** A new secret for a confidential client; the old one stops working at once. */
  async regenerateSecret(tenantId: string, clientId: string): Promise<ClientWithSecretDto> {
    const client = await this.load(tenantId, clientId);
    if (client.client_type !== 'confidential') {
      throw badRequest('A public client has no secret', [
        { field: 'client_type', message: 'only confidential clients have a secret' },
      ]);
    }
    const secret = randomToken(32);
    const updatedAt = new Date();
    await this.clients.update(
      tenantId,
      { client_id: clientId },
      {
        secret_sealed: this.box.seal(secret, this.secretAad(tenantId, clientId)),
        updated_at: updatedAt,
      },
    );
    this.changed(tenantId);
    return { ...toClientDto({ ...client, updated_at: updatedAt }), client_secret: secret };
  }

  /** Login page branding; public, so it answers 404 itself for an unknown tenant. */
  async display(tenantId: string, clientId: string): Promise<ClientDisplayDto> {
    if (!isValidTenantId(tenantId) || !(await this.tenants.exists(tenantId))) {
      throw notFound('Tenant');
    }
    const client = await this.load(tenantId, clientId);
    const tenant = await this.tenants.settings(tenantId);
    return {
      client_id: client.client_id,
      name: client.name,
      logo_uri: client.logo_uri,
      client_uri: client.client_uri,
      policy_uri: client.policy_uri,
      tos_uri: client.tos_uri,
      register_enable: client.register_enable,
      tenant_display_name: tenant.display_name,
    };
  }

  /**
   * The client as oidc-provider reads it (adapter `Client.find`), or undefined when unknown.
   * Custom properties (client_type, is_lock, is_group_restricted, first_party, register_enable)
   * need `extraClientMetadata.properties` in the provider configuration. Every call answers a
   * frozen object, the same one until the client changes (so oidc-provider's Client instance can be
   * kept per object, see reuseClientInstances); whoever hands it to oidc-provider copies it first.
   */
  async getProviderMetadata(
    tenantId: string,
    clientId: string,
  ): Promise<Record<string, unknown> | undefined> {
    if (!CLIENT_ID_PATTERN.test(clientId) || !isValidTenantId(tenantId)) return undefined;
    const key = `${tenantId}\n${clientId}`;
    const cached = this.metadata.get(key);
    if (cached) return cached.value;

    const generation = this.generation;
    const client = await this.clients.findOne(tenantId, { client_id: clientId });
    const value = client ? deepFreeze(this.providerMetadataOf(tenantId, client)) : undefined;
    if (generation === this.generation) {
      this.metadata.set(key, { value }, value ? {} : { ttl: UNKNOWN_CLIENT_TTL_MS });
    }
    return value;
  }

  private providerMetadataOf(tenantId: string, c: ClientEntity): Record<string, unknown> {
    const metadata: Record<string, unknown> = {
      client_id: c.client_id,
      client_name: c.name,
      application_type: applicationType(c),
      redirect_uris: c.redirect_uris,
      post_logout_redirect_uris: c.post_logout_redirect_uris,
      grant_types: c.grant_types,
      response_types: c.grant_types.includes('authorization_code') ? ['code'] : [],
      token_endpoint_auth_method: c.token_endpoint_auth_method,
      id_token_signed_response_alg: c.id_token_signed_response_alg,
      scope: c.allowed_scopes.join(' '),
      client_type: c.client_type,
      is_lock: c.is_lock,
      is_group_restricted: c.is_group_restricted,
      first_party: c.first_party,
      register_enable: c.register_enable,
      dpop_bound_access_tokens: c.dpop_bound_access_tokens,
      frontchannel_logout_uri: c.client_logout_uri ?? undefined,
      frontchannel_logout_session_required: c.frontchannel_logout_session_required,
    };
    if (c.backchannel_logout_uri) {
      metadata.backchannel_logout_uri = c.backchannel_logout_uri;
      metadata.backchannel_logout_session_required = c.backchannel_logout_session_required;
    }
    if (c.client_type === 'confidential' && c.secret_sealed) {
      metadata.client_secret = this.box.openString(
        c.secret_sealed,
        this.secretAad(tenantId, c.client_id),
      );
    }
    if (c.jwks) metadata.jwks = c.jwks;
    if (c.jwks_uri) metadata.jwks_uri = c.jwks_uri;
    for (const field of ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri'] as const) {
      if (c[field]) metadata[field] = c[field];
    }
    return metadata;
  }

  /**
   * Every scope some client of the tenant allows. oidc-provider refuses client metadata naming
   * a scope its configuration lacks, so the provider's `scopes` must include these.
   */
  async scopesInUse(tenantId: string): Promise<string[]> {
    const rows: Array<{ scope: string }> = await this.clients
      .query(tenantId, 'c')
      .select('unnest(c.allowed_scopes)', 'scope')
      .distinct(true)
      .getRawMany();
    return rows.map((r) => r.scope).toSorted();
  }

  /** Checks a presented client secret in constant time; false for unknown or public clients. */
  async verifySecret(tenantId: string, clientId: string, presented: string): Promise<boolean> {
    const metadata = await this.getProviderMetadata(tenantId, clientId);
    const secret = metadata?.client_secret;
    if (typeof secret !== 'string') return false;
    return constantTimeEqual(secret, presented);
  }
}
