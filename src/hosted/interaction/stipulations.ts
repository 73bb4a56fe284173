import { Injectable } from '@nestjs/common';
import { TotpService } from '../../mfa/totp.service.js';
import { PasskeysService } from '../../passkeys/passkeys.service.js';
import type { Stipulations } from '../../tenants/tenant-settings.js';
import type { UserEntity } from '../../users/user.entity.js';
import { UsersService } from '../../users/users.service.js';
import type { Settings } from './login-methods.js';

/** One rule of the tenant's `stipulations` a user may still have to meet. */
export type Stipulation = keyof Stipulations;

/** The order in which unmet rules are put to the user. */
export const STIPULATION_ORDER: Stipulation[] = [
  'password_changed_after_reset',
  'verified_email',
  'accepted_terms',
  'second_factor',
  'passkey',
];

/**
 * The tenant's stipulations: rules a user must meet before a sign-in completes. SignInCompletion
 * asks before it hands the sign-in to the provider, for the hosted pages (which route the user
 * through the rule's page) and the headless API (which answers the rule as its next step)
 * alike, so no rule exists twice.
 */
@Injectable()
export class StipulationRules {
  constructor(
    private readonly users: UsersService,
    private readonly totp: TotpService,
    private readonly passkeys: PasskeysService,
  ) {}

  /** The first rule the user does not meet yet, or none. */
  async unmet(
    tenantId: string,
    settings: Settings,
    accountId: string,
  ): Promise<{ rule: Stipulation; user: UserEntity } | undefined> {
    const on = settings.stipulations;
    if (!on || !STIPULATION_ORDER.some((r) => on[r])) return undefined;
    const user = await this.users.getEntity(tenantId, accountId);
    if (!user) return undefined;
    for (const rule of STIPULATION_ORDER) {
      if (!on[rule]) continue;
      if (!(await this.met(tenantId, settings, user, rule))) return { rule, user };
    }
    return undefined;
  }

  private async met(
    tenantId: string,
    settings: Settings,
    user: UserEntity,
    rule: Stipulation,
  ): Promise<boolean> {
    switch (rule) {
      case 'password_changed_after_reset':
        return !user.password_change_required;
      case 'verified_email':
        return Boolean(user.email && user.is_verified);
      case 'accepted_terms':
        return user.terms_accepted_version === settings.terms_version;
      case 'second_factor':
        return this.totp.hasSecondFactor(tenantId, user.user_id);
      case 'passkey':
        // Without passkeys on, nobody could meet it: the rule waits until they are.
        return !settings.passkey_enabled || this.passkeys.hasPasskey(tenantId, user.user_id);
    }
  }
}
