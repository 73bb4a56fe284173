import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { AuditService, type AuditContext } from '../audit/audit.service.js';
import { isDomainError } from '../common/domain-error.js';
import { classifyDatabaseError } from '../database/database-errors.js';
import { GroupListQuery } from '../groups/dto/group.dto.js';
import { GroupsService } from '../groups/groups.service.js';
import type { TenantSettings } from '../tenants/tenant-settings.js';
import { CreateUserDto, USERNAME_PATTERN } from '../users/dto/user.dto.js';
import type { UserEntity } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import type { UpstreamIdentity } from './upstream-client.js';
import type { UpstreamProviderEntity } from './upstream-provider.entity.js';
import { IdentityLinksService } from './identity-links.service.js';

/** The local side of an upstream identity, as the callback uses it. */
export interface UpstreamProfile {
  subject: string;
  username?: string;
  email?: string;
  /** Only when the upstream says so (email_verified true, GitHub's verified primary address). */
  emailVerified: boolean;
  name?: string;
  groups?: string[];
}

export type UpstreamSignInOutcome =
  | { kind: 'user'; user: UserEntity; created: boolean; linked: boolean }
  | { kind: 'refused'; reason: string; message: string };

const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() ? v.trim() : undefined;

/** The upstream claims read through the provider's claim mapping (OIDC names by default). */
export function profileOf(
  row: UpstreamProviderEntity,
  identity: UpstreamIdentity,
): UpstreamProfile {
  const m = row.claim_mapping ?? {};
  const c = identity.claims;
  const verifiedClaim = c[m.email_verified ?? 'email_verified'];
  let email = str(c[m.email ?? 'email']);
  let emailVerified = verifiedClaim === true || verifiedClaim === 'true';
  if (identity.verifiedEmail) {
    email = identity.verifiedEmail;
    emailVerified = true;
  }
  const rawGroups = c[m.groups ?? 'groups'];
  const groups = Array.isArray(rawGroups)
    ? rawGroups.filter((g): g is string => typeof g === 'string' && g.length <= 256).slice(0, 500)
    : typeof rawGroups === 'string'
      ? [rawGroups]
      : undefined;
  return {
    subject: identity.subject,
    username: str(c[m.username ?? 'preferred_username']) ?? (m.username ? undefined : str(c.login)),
    email: email && email.length <= 254 ? email : undefined,
    emailVerified: Boolean(email) && emailVerified,
    name: str(c[m.name ?? 'name']),
    groups,
  };
}

/**
 * Who an upstream identity is here (issue 21): the user linked to (provider, subject) — the
 * upstream `sub` is the key, never the email; else, when the provider may link by email and the
 * upstream verified the address, the local user with that address (linked now); else, when it
 * may create users, a new user (no password) and its link; else nobody. Group sync from the
 * upstream's groups claim follows each sign-in when the provider has it on.
 */
@Injectable()
export class UpstreamSignIn {
  constructor(
    private readonly links: IdentityLinksService,
    private readonly users: UsersService,
    private readonly groups: GroupsService,
    private readonly audit: AuditService,
  ) {}

  async resolve(
    row: UpstreamProviderEntity,
    settings: Pick<TenantSettings, 'has_username_and_email'>,
    p: UpstreamProfile,
    ctx: AuditContext,
  ): Promise<UpstreamSignInOutcome> {
    const tenantId = row.tenant_id;
    const label = row.label;
    const linked = await this.links.findBySubject(tenantId, row.provider_id, p.subject);
    if (linked) {
      const user = await this.users.getEntity(tenantId, linked.user_id);
      if (!user) return refuse('no_account', `No account is linked to this ${label} identity.`);
      await this.links.touch(tenantId, linked.id, p.email ?? null);
      return { kind: 'user', user, created: false, linked: false };
    }
    const existing = p.email ? await this.users.findForLogin(tenantId, p.email) : null;
    const sameEmail = existing && existing.email?.toLowerCase() === p.email?.toLowerCase();
    if (row.link_by_email && existing && sameEmail) {
      if (!p.emailVerified)
        return refuse(
          'email_not_verified',
          `${label} did not confirm that this email address is yours, so it cannot be linked to the existing account. Sign in with your password and connect ${label} from your account page.`,
        );
      const link = await this.createLink(row, existing, p, ctx, 'email');
      if (link !== 'ok') return link;
      return { kind: 'user', user: existing, created: false, linked: true };
    }
    if (row.jit_create) {
      const made = await this.createLinkedUser(row, settings, p, ctx, !!(existing && sameEmail));
      if (made.kind === 'user') return made;
      // A concurrent first sign-in of the same identity (two tabs, a double submit) may have
      // made and linked its account first: then that account is this identity's.
      const winner = await this.links.findBySubject(tenantId, row.provider_id, p.subject);
      const won = winner ? await this.users.getEntity(tenantId, winner.user_id) : null;
      return won ? { kind: 'user', user: won, created: false, linked: false } : made;
    }
    return refuse('no_account', `No account is linked to this ${label} identity.`);
  }

  /** JIT: a new account for the upstream identity, and its link; nothing half-made stays. */
  private async createLinkedUser(
    row: UpstreamProviderEntity,
    settings: Pick<TenantSettings, 'has_username_and_email'>,
    p: UpstreamProfile,
    ctx: AuditContext,
    emailTaken: boolean,
  ): Promise<UpstreamSignInOutcome> {
    const label = row.label;
    if (emailTaken)
      return refuse(
        'email_in_use',
        `An account with this email address exists already. Sign in with it and connect ${label} from your account page.`,
      );
    const user = await this.createUser(row, settings, p, ctx);
    if (!user)
      return refuse('no_account', `An account could not be made from this ${label} identity.`);
    const link = await this.createLink(row, user, p, ctx, 'jit');
    if (link === 'ok') return { kind: 'user', user, created: true, linked: true };
    await this.users.remove(row.tenant_id, user.user_id).catch(() => undefined);
    return link;
  }

  /** Link mode (the account page): the signed-in user connects this upstream identity. */
  async link(
    row: UpstreamProviderEntity,
    user: UserEntity,
    p: UpstreamProfile,
    ctx: AuditContext,
  ): Promise<'ok' | 'same' | { kind: 'refused'; reason: string; message: string }> {
    const found = await this.links.findBySubject(row.tenant_id, row.provider_id, p.subject);
    if (found?.user_id === user.user_id) return 'same';
    if (found)
      return refuse(
        'identity_taken',
        `This ${row.label} account is already connected to another account here.`,
      );
    return this.createLink(row, user, p, ctx, 'account');
  }

  private async createLink(
    row: UpstreamProviderEntity,
    user: UserEntity,
    p: UpstreamProfile,
    ctx: AuditContext,
    how: 'email' | 'jit' | 'account',
  ): Promise<'ok' | { kind: 'refused'; reason: string; message: string }> {
    try {
      const link = await this.links.create(row.tenant_id, {
        user_id: user.user_id,
        provider_id: row.provider_id,
        subject: p.subject,
        email: p.email ?? null,
      });
      await this.links.touch(row.tenant_id, link.id, p.email ?? null);
    } catch (err) {
      if (!isDomainError(err) || err.kind !== 'conflict') throw err;
      return refuse(
        'already_linked',
        `This account is already connected to another ${row.label} identity.`,
      );
    }
    this.audit.record({
      tenantId: row.tenant_id,
      type: 'user.identity_linked',
      ...ctx,
      subjectType: 'user',
      subjectId: user.user_id,
      method: `upstream:${row.provider_id}`,
      details: { provider_id: row.provider_id, subject: p.subject, via: how },
    });
    return 'ok';
  }

  /** A new user from the upstream profile: a unique username, the email verified only if the upstream verified it. */
  private async createUser(
    row: UpstreamProviderEntity,
    settings: Pick<TenantSettings, 'has_username_and_email'>,
    p: UpstreamProfile,
    ctx: AuditContext,
  ): Promise<UserEntity | null> {
    // One identifier: the email address is the username.
    const oneIdentifier = !settings.has_username_and_email;
    if (oneIdentifier && !p.email) return null;
    const base = oneIdentifier
      ? p.email!
      : cleanUsername(p.username ?? p.email?.split('@')[0] ?? `${row.provider_id}-${p.subject}`);
    for (let attempt = 0; attempt < 4; attempt++) {
      const username =
        attempt === 0 || oneIdentifier
          ? base
          : `${base.slice(0, 110)}-${randomBytes(3).toString('hex')}`;
      const dto = plainToInstance(CreateUserDto, {
        username,
        ...(p.email ? { email: p.email, is_verified: p.emailVerified } : {}),
        ...(p.name ? { display_name: p.name.slice(0, 200) } : {}),
      });
      if ((await validate(dto, { whitelist: true })).length) return null;
      try {
        const created = await this.users.create(row.tenant_id, dto);
        this.audit.record({
          tenantId: row.tenant_id,
          type: 'user.signup',
          ...ctx,
          actorType: 'user',
          actorId: created.user_id,
          subjectType: 'user',
          subjectId: created.user_id,
          method: `upstream:${row.provider_id}`,
          details: { provider_id: row.provider_id, jit: true },
        });
        return this.users.getEntity(row.tenant_id, created.user_id);
      } catch (err) {
        if (classifyDatabaseError(err)?.kind !== 'unique' || oneIdentifier) return null;
      }
    }
    return null;
  }

  /**
   * The user's membership of the groups the provider covers, set from the upstream's groups:
   * with a mapping, the mapped local groups (upstream value → group id); without one, local
   * groups matched by name, and then every local group counts as covered (the upstream owns
   * the user's membership). Adds and removes only inside the covered set; audited.
   */
  async syncGroups(
    row: UpstreamProviderEntity,
    userId: string,
    upstreamGroups: string[] | undefined,
    ctx: AuditContext,
  ): Promise<{ added: string[]; removed: string[] } | undefined> {
    if (!row.group_sync || !upstreamGroups) return undefined;
    const tenantId = row.tenant_id;
    const mapping = row.group_mapping ?? {};
    const mapped = Object.keys(mapping).length > 0;
    const current = new Set(
      (await this.groups.groupsOfUser(tenantId, userId)).map((g) => g.group_id),
    );
    const wanted = new Set<string>();
    let covered: Set<string>;
    if (mapped) {
      covered = new Set(Object.values(mapping));
      for (const g of upstreamGroups) if (mapping[g]) wanted.add(mapping[g]);
    } else {
      for (const name of new Set(upstreamGroups)) {
        const q = Object.assign(new GroupListQuery(), { name, limit: 50, offset: 0 });
        const page = await this.groups.list(tenantId, q);
        for (const g of page.data)
          if (g.name.toLowerCase() === name.toLowerCase()) wanted.add(g.group_id);
      }
      covered = new Set([...current, ...wanted]);
    }
    const added: string[] = [];
    const removed: string[] = [];
    for (const id of wanted) {
      if (current.has(id)) continue;
      try {
        await this.groups.addMember(tenantId, id, userId);
        added.push(id);
      } catch (err) {
        // A mapping to a group deleted since: nothing to add to.
        if (!isDomainError(err) && !(err as { status?: number }).status) throw err;
      }
    }
    for (const id of current) {
      if (!covered.has(id) || wanted.has(id)) continue;
      try {
        await this.groups.removeMember(tenantId, id, userId);
        removed.push(id);
      } catch (err) {
        if (!isDomainError(err) && !(err as { status?: number }).status) throw err;
      }
    }
    if (added.length || removed.length)
      this.audit.record({
        tenantId,
        type: 'user.groups_synced',
        ...ctx,
        subjectType: 'user',
        subjectId: userId,
        method: `upstream:${row.provider_id}`,
        details: { provider_id: row.provider_id, added, removed },
      });
    return { added, removed };
  }
}

function refuse(reason: string, message: string) {
  return { kind: 'refused' as const, reason, message };
}

/** A username from an upstream value: the allowed characters only, 1..120 of them. */
function cleanUsername(value: string): string {
  const cleaned = [...value]
    .map((ch) => (USERNAME_PATTERN.test(ch) ? ch : '-'))
    .join('')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 120);
  return cleaned || `user-${randomBytes(4).toString('hex')}`;
}
