import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { AuditService, type AuditContext } from '../audit/audit.service.js';
import { classifyDatabaseError } from '../database/database-errors.js';
import { page, type ListQuery, type Page } from '../common/pagination.js';
import type { MeIdentity } from '../users/me-sections.js';
import { DomainError } from '../common/domain-error.js';
import { isUuid } from '../common/ids.js';
import { badRequest, notFound } from '../common/problem.js';
import { PasskeysService } from '../passkeys/passkeys.service.js';
import { PinPatternService } from '../pin-pattern/pin-pattern.service.js';
import { UsersService } from '../users/users.service.js';
import { IdentityLinkEntity } from './identity-link.entity.js';
import { UpstreamProviderEntity } from './upstream-provider.entity.js';

export interface NewIdentityLink {
  user_id: string;
  provider_id: string;
  subject: string;
  email?: string | null;
}

/** A user would be left without any way to sign in (issue 21: never unlink the last one). */
export const lastSignInMethod = () =>
  new DomainError(
    'conflict',
    'last-sign-in-method',
    'This is the only way left to sign in to the account: set a password or add a passkey before removing it',
    { title: 'Last way to sign in' },
  );

/** The upstream identity is linked already (to this user or another one). */
export const identityAlreadyLinked = () =>
  new DomainError(
    'conflict',
    'identity-already-linked',
    'This upstream account is already linked to a user of this tenant',
    { title: 'Already linked' },
  );

/** The user has a link to this provider already (one per provider per user). */
export const providerAlreadyLinked = () =>
  new DomainError(
    'conflict',
    'provider-already-linked',
    'The user already has an account of this provider linked; unlink it first',
    { title: 'Already linked' },
  );

/**
 * Links between local users and upstream identities (issue 21). The key is (provider, upstream
 * subject), never the email. Removing a link on the user's own behalf refuses to take away the
 * last way to sign in; an admin's removal may (the account keeps whatever else it has).
 */
@Injectable()
export class IdentityLinksService {
  constructor(
    @InjectTenantRepository(IdentityLinkEntity)
    private readonly links: TenantRepository<IdentityLinkEntity>,
    @InjectTenantRepository(UpstreamProviderEntity)
    private readonly providers: TenantRepository<UpstreamProviderEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly users: UsersService,
    private readonly passkeys: PasskeysService,
    private readonly pinPattern: PinPatternService,
  ) {}

  findBySubject(
    tenantId: string,
    providerId: string,
    subject: string,
  ): Promise<IdentityLinkEntity | null> {
    return this.links.findOne(tenantId, { provider_id: providerId, subject });
  }

  /** A user's links, oldest first (a user has at most one per provider). */
  listForUser(tenantId: string, userId: string): Promise<IdentityLinkEntity[]> {
    if (!isUuid(userId)) return Promise.resolve([]);
    return this.links.find(tenantId, {
      where: { user_id: userId },
      order: { created_at: 'ASC', id: 'ASC' },
    });
  }

  /** A user's links with their provider's label and icon, oldest first. */
  async views(tenantId: string, userId: string): Promise<MeIdentity[]> {
    const links = await this.listForUser(tenantId, userId);
    if (!links.length) return [];
    const providers = new Map(
      (await this.providers.find(tenantId)).map((p) => [p.provider_id, p] as const),
    );
    return links.map((l) => {
      const p = providers.get(l.provider_id);
      return {
        id: l.id,
        provider_id: l.provider_id,
        label: p?.label ?? l.provider_id,
        icon_url: p?.icon_url ?? null,
        subject: l.subject,
        email: l.email,
        created_at: l.created_at.toISOString(),
        last_used_at: l.last_used_at?.toISOString() ?? null,
      };
    });
  }

  /** The admin API's list: a user has at most one link per provider, so this pages in memory. */
  async pageFor(tenantId: string, userId: string, q: ListQuery): Promise<Page<MeIdentity>> {
    if (!(await this.users.userExists(tenantId, userId))) throw notFound('User');
    const all = await this.views(tenantId, userId);
    if (q.sort_direction === -1) all.reverse();
    return page(all.slice(q.offset, q.offset + q.limit), all.length, q);
  }

  /**
   * An admin links an upstream identity to a user ahead of their first upstream sign-in (for
   * providers that sign in only already-linked users); records `user.identity_linked`.
   */
  async linkByAdmin(
    tenantId: string,
    userId: string,
    link: Omit<NewIdentityLink, 'user_id'>,
    ctx: AuditContext,
  ): Promise<MeIdentity> {
    if (!(await this.users.userExists(tenantId, userId))) throw notFound('User');
    if (!(await this.providers.findOne(tenantId, { provider_id: link.provider_id })))
      throw badRequest(`The tenant has no upstream provider ${link.provider_id}`, [
        { field: 'provider_id', message: 'no such upstream provider in the tenant' },
      ]);
    const row = await this.create(tenantId, { ...link, user_id: userId });
    this.audit.recordForUser(tenantId, userId, 'user.identity_linked', ctx, 'upstream', {
      link_id: row.id,
      provider_id: row.provider_id,
      subject: row.subject,
      by_admin: true,
    });
    const view = (await this.views(tenantId, userId)).find((l) => l.id === row.id);
    if (!view) throw notFound('Linked identity');
    return view;
  }

  /**
   * Unlinks on someone's behalf and records `user.identity_unlinked`: the user themselves
   * (the last way to sign in is refused) or an admin (`byAdmin`: allowed, even the last).
   */
  async unlink(
    tenantId: string,
    userId: string,
    linkId: string,
    ctx: AuditContext,
    byAdmin = false,
  ): Promise<void> {
    if (byAdmin && !(await this.users.userExists(tenantId, userId))) throw notFound('User');
    const row = await this.remove(tenantId, userId, linkId, { allowLast: byAdmin });
    this.audit.recordForUser(tenantId, userId, 'user.identity_unlinked', ctx, 'upstream', {
      link_id: row.id,
      provider_id: row.provider_id,
      subject: row.subject,
      by_admin: byAdmin,
    });
  }

  /** One of the user's links; 404 when it is not theirs. */
  async get(tenantId: string, userId: string, linkId: string): Promise<IdentityLinkEntity> {
    const row =
      isUuid(linkId) && isUuid(userId)
        ? await this.links.findOne(tenantId, { id: linkId, user_id: userId })
        : null;
    if (!row) throw notFound('Linked identity');
    return row;
  }

  /** Links an upstream identity; a taken subject or a second link to the provider is a conflict. */
  async create(
    tenantId: string,
    link: NewIdentityLink,
    manager?: EntityManager,
  ): Promise<IdentityLinkEntity> {
    try {
      return await this.links.insert(
        tenantId,
        {
          id: randomUUID(),
          user_id: link.user_id,
          provider_id: link.provider_id,
          subject: link.subject,
          email: link.email ?? null,
          created_at: new Date(),
          last_used_at: null,
        },
        manager,
      );
    } catch (e) {
      const constraint = (e as { driverError?: { constraint?: string } }).driverError?.constraint;
      if (classifyDatabaseError(e)?.kind === 'unique') {
        throw constraint === 'user_identity_links_user_provider_key'
          ? providerAlreadyLinked()
          : identityAlreadyLinked();
      }
      throw e;
    }
  }

  /** Marks a link used now (a sign-in through it), with the email the provider gave this time. */
  async touch(tenantId: string, linkId: string, email?: string | null): Promise<void> {
    const values: Partial<IdentityLinkEntity> = { last_used_at: new Date() };
    if (email !== undefined) values.email = email;
    await this.links.update(tenantId, { id: linkId }, values);
  }

  /**
   * Removes one of a user's links and answers it. Unless `allowLast` (an admin's removal), a
   * link that is the user's last way to sign in (no password, passkey, PIN/pattern or other
   * link to an enabled provider) is refused. The user's links are row-locked meanwhile, so two concurrent unlinks
   * cannot each see the other as the remaining way.
   */
  async remove(
    tenantId: string,
    userId: string,
    linkId: string,
    options: { allowLast?: boolean } = {},
  ): Promise<IdentityLinkEntity> {
    if (!isUuid(linkId) || !isUuid(userId)) throw notFound('Linked identity');
    return this.dataSource.transaction(async (m) => {
      const mine = await this.links
        .query(tenantId, 'l', m)
        .andWhere('l.user_id = :userId', { userId })
        .setLock('pessimistic_write')
        .getMany();
      const row = mine.find((l) => l.id === linkId);
      if (!row) throw notFound('Linked identity');
      if (!options.allowLast) {
        // Only links to enabled providers sign in: one to a disabled provider is no way in,
        // neither as the one removed nor as the one that remains.
        const enabled = new Set(
          (await this.providers.find(tenantId, { where: { enabled: true } }, m)).map(
            (p) => p.provider_id,
          ),
        );
        const remains = mine.some((l) => l.id !== linkId && enabled.has(l.provider_id));
        if (enabled.has(row.provider_id) && !remains && !(await this.hasOtherWay(tenantId, userId)))
          throw lastSignInMethod();
      }
      await this.links.delete(tenantId, { id: linkId }, m);
      return row;
    });
  }

  /** Whether the user can sign in without any upstream link: a password, passkey or PIN/pattern. */
  async hasOtherWay(tenantId: string, userId: string): Promise<boolean> {
    const user = await this.users.getEntity(tenantId, userId);
    if (!user) return false;
    if (user.password_hash) return true;
    if (await this.passkeys.hasPasskey(tenantId, userId)) return true;
    return (await this.pinPattern.status(tenantId, userId)).enrolled;
  }
}
