import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { randomToken, sha256Hex } from '../../libs/crypto/index.js';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { DomainError } from '../common/domain-error.js';
import { page, type ListQuery, type Page } from '../common/pagination.js';
import { notFound } from '../common/problem.js';
import { ClientsService } from '../clients/clients.service.js';
import { CreateClientDto, ReplaceClientDto, type ClientDto } from '../clients/dto/client.dto.js';
import type { DynamicRegistration } from '../tenants/tenant-settings.js';
import { TenantsService } from '../tenants/tenants.service.js';
import type { IssueInitialTokenDto, InitialTokenDto } from './dto/registration.dto.js';
import { ClientRegistrationEntity, InitialAccessTokenEntity } from './registration.entities.js';
import {
  RegistrationError,
  toClientFields,
  toRegistrationAnswer,
} from './registration-metadata.js';

const TOKEN_PREFIX = 'idp_iat_';
const RAT_PREFIX = 'idp_rat_';

function toInitialTokenDto(row: InitialAccessTokenEntity): InitialTokenDto {
  return {
    token_id: row.token_id,
    description: row.description,
    expires_at: row.expires_at.toISOString(),
    max_uses: row.max_uses,
    uses: row.uses,
    created_at: row.created_at.toISOString(),
  };
}

/**
 * Dynamic client registration (RFC 7591) and its management (RFC 7592) for one tenant, within
 * the tenant's `dynamic_registration` bounds. Clients are made and changed by ClientsService
 * (the same rules as the management API); this service adds the tokens around it.
 */
@Injectable()
export class RegistrationService {
  constructor(
    @InjectTenantRepository(InitialAccessTokenEntity)
    private readonly initialTokens: TenantRepository<InitialAccessTokenEntity>,
    @InjectTenantRepository(ClientRegistrationEntity)
    private readonly registrations: TenantRepository<ClientRegistrationEntity>,
    private readonly clients: ClientsService,
    private readonly tenants: TenantsService,
  ) {}

  async issueInitialToken(
    tenantId: string,
    dto: IssueInitialTokenDto,
  ): Promise<InitialTokenDto & { initial_access_token: string }> {
    await this.tenants.settings(tenantId);
    const token = `${TOKEN_PREFIX}${randomToken(32)}`;
    const row = await this.initialTokens.insert(tenantId, {
      token_id: randomUUID(),
      token_hash: sha256Hex(token),
      description: dto.description ?? null,
      expires_at: new Date(Date.now() + (dto.expires_in ?? 86_400) * 1000),
      max_uses: dto.max_uses ?? null,
      uses: 0,
      created_at: new Date(),
    });
    return { ...toInitialTokenDto(row), initial_access_token: token };
  }

  async listInitialTokens(tenantId: string, q: ListQuery): Promise<Page<InitialTokenDto>> {
    const [rows, total] = await this.initialTokens.findAndCount(tenantId, {
      order: { created_at: q.sort_direction === -1 ? 'DESC' : 'ASC', token_id: 'ASC' },
      take: q.limit,
      skip: q.offset,
    });
    return page(rows.map(toInitialTokenDto), total, q);
  }

  async revokeInitialToken(tenantId: string, tokenId: string): Promise<void> {
    if (!/^[0-9a-f-]{36}$/i.test(tokenId)) throw notFound('Initial access token');
    const removed = await this.initialTokens.delete(tenantId, { token_id: tokenId });
    if (!removed) throw notFound('Initial access token');
  }

  private async policy(tenantId: string): Promise<DynamicRegistration> {
    const settings = await this.tenants.settings(tenantId).catch(() => undefined);
    const policy = settings?.dynamic_registration;
    // A tenant without registration looks like one without the endpoint.
    if (!policy?.enabled) throw new DomainError('not-found', 'not-found', 'Not found');
    return policy;
  }

  /** Takes one use of an initial access token, atomically; its id, or undefined when spent. */
  private async takeInitialToken(tenantId: string, token: string): Promise<string | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const rows = await this.initialTokens.sql<{ token_id: string }>(
      tenantId,
      'dcr_take_initial_token',
      `UPDATE initial_access_tokens SET uses = uses + 1
        WHERE tenant_id = $1 AND token_hash = $2 AND expires_at > now()
          AND (max_uses IS NULL OR uses < max_uses)
        RETURNING token_id`,
      [sha256Hex(token)],
    );
    return rows[0]?.token_id;
  }

  private async giveBack(tenantId: string, tokenId: string | undefined) {
    if (!tokenId) return;
    await this.initialTokens.sql(
      tenantId,
      'dcr_give_back_initial_token',
      `UPDATE initial_access_tokens SET uses = greatest(uses - 1, 0)
        WHERE tenant_id = $1 AND token_id = $2`,
      [tokenId],
    );
  }

  /** RFC 7591 registration: the client's metadata in, its credentials and metadata out. */
  async register(tenantId: string, bearer: string | undefined, metadata: unknown, base: string) {
    const policy = await this.policy(tenantId);
    const fields = toClientFields(metadata, policy);
    const dto = await this.validated(CreateClientDto, { ...fields, client_id: undefined });
    let tokenId: string | undefined;
    if (policy.require_initial_access_token) {
      tokenId = bearer ? await this.takeInitialToken(tenantId, bearer) : undefined;
      if (!tokenId)
        throw new RegistrationError(
          'invalid_token',
          'a valid initial access token is required',
          401,
        );
    }
    let created: Awaited<ReturnType<ClientsService['create']>>;
    try {
      created = await this.clients.create(tenantId, dto);
    } catch (err) {
      await this.giveBack(tenantId, tokenId);
      throw RegistrationError.from(err);
    }
    const rat = `${RAT_PREFIX}${randomToken(32)}`;
    await this.registrations.insert(tenantId, {
      client_id: created.client_id,
      token_hash: sha256Hex(rat),
      initial_token_id: tokenId ?? null,
      created_at: new Date(),
    });
    return {
      ...toRegistrationAnswer(created, `${base}/${encodeURIComponent(created.client_id)}`),
      ...(created.client_secret
        ? { client_secret: created.client_secret, client_secret_expires_at: 0 }
        : {}),
      registration_access_token: rat,
    };
  }

  /** The registration a registration access token opens, or a 401 (never a 404: no probing). */
  private async authorised(tenantId: string, clientId: string, bearer: string | undefined) {
    await this.policy(tenantId);
    const row =
      bearer?.startsWith(RAT_PREFIX) && clientId.length <= 128
        ? await this.registrations.findOne(tenantId, {
            client_id: clientId,
            token_hash: sha256Hex(bearer),
          })
        : null;
    if (!row)
      throw new RegistrationError(
        'invalid_token',
        'the registration access token is not valid for this client',
        401,
      );
    return row;
  }

  async read(tenantId: string, clientId: string, bearer: string | undefined, uri: string) {
    await this.authorised(tenantId, clientId, bearer);
    return toRegistrationAnswer(await this.clients.get(tenantId, clientId), uri);
  }

  /** RFC 7592 update: the whole metadata again (what is left out returns to its default). */
  async update(
    tenantId: string,
    clientId: string,
    bearer: string | undefined,
    metadata: unknown,
    uri: string,
  ) {
    await this.authorised(tenantId, clientId, bearer);
    const policy = await this.policy(tenantId);
    const body = (metadata ?? {}) as Record<string, unknown>;
    if (body.client_id !== undefined && body.client_id !== clientId) {
      throw new RegistrationError(
        'invalid_client_metadata',
        'client_id must be the registered one',
      );
    }
    const current = await this.clients.get(tenantId, clientId);
    const fields = toClientFields(metadata, policy);
    if (fields.client_type !== current.client_type) {
      throw new RegistrationError(
        'invalid_client_metadata',
        'token_endpoint_auth_method cannot turn a public client into a confidential one or back',
      );
    }
    const dto = await this.validated(ReplaceClientDto, { ...fields, client_type: undefined });
    let updated: ClientDto;
    try {
      updated = await this.clients.replace(tenantId, clientId, dto);
    } catch (err) {
      throw RegistrationError.from(err);
    }
    return toRegistrationAnswer(updated, uri);
  }

  async remove(tenantId: string, clientId: string, bearer: string | undefined): Promise<void> {
    await this.authorised(tenantId, clientId, bearer);
    await this.clients.remove(tenantId, clientId);
  }

  /** Shape checks of the management API's DTOs, reported as RFC 7591 errors. */
  private async validated<T extends object>(
    cls: new () => T,
    fields: Record<string, unknown>,
  ): Promise<T> {
    const dto = plainToInstance(cls, fields);
    const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
    if (errors.length) {
      const first = errors[0];
      const message = Object.values(first.constraints ?? { invalid: 'is invalid' })[0];
      throw new RegistrationError(
        first.property.startsWith('redirect_uris')
          ? 'invalid_redirect_uri'
          : 'invalid_client_metadata',
        message,
      );
    }
    return dto;
  }
}
