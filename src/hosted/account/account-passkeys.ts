import { Inject, Injectable } from '@nestjs/common';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { isDomainError } from '../../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { PasskeysService } from '../../passkeys/passkeys.service.js';
import { statusOf } from '../kit/page-errors.js';
import type { PageReply } from '../kit/page-reply.js';
import { AccountService, str, type Extras, type Signed } from './account.service.js';

/** The account page's passkey actions: add (after a recent sign-in), rename, delete. */
@Injectable()
export class AccountPasskeys {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly passkeys: PasskeysService,
    private readonly account: AccountService,
  ) {}

  /**
   * Adding a passkey adds a way in that skips the password: a session older than
   * RECENT_AUTH_SECONDS (a forgotten browser, a stolen cookie) signs in again first.
   */
  async options(s: Signed): Promise<PageReply> {
    const age = Date.now() / 1000 - (s.loginTs ?? 0);
    if (age > this.config.recentAuthSeconds)
      return {
        status: 401,
        json: {
          error: 'Sign in again to add a passkey.',
          reauthenticate: `${this.account.base(s.tenantId)}/signin?reauth=1`,
        },
      };
    try {
      return {
        status: 200,
        json: await this.passkeys.registrationOptions(s.tenantId, s.user.user_id),
      };
    } catch (err) {
      if (!isDomainError(err)) throw err;
      return { status: statusOf(err), json: { error: err.message } };
    }
  }

  async register(s: Signed, form: Record<string, string>): Promise<Extras> {
    const raw = str(form.response);
    let response: RegistrationResponseJSON | undefined;
    try {
      response =
        raw && raw.length < 64 * 1024 ? (JSON.parse(raw) as RegistrationResponseJSON) : undefined;
    } catch {
      response = undefined;
    }
    if (!response || typeof response !== 'object')
      return { status: 400, error: 'The passkey could not be added. Try again.' };
    try {
      const p = await this.passkeys.verifyRegistration(
        s.tenantId,
        s.user.user_id,
        str(form.challenge_id),
        response,
        deviceName(s),
        s.ctx,
      );
      return { message: `Passkey "${p.name}" added.` };
    } catch (err) {
      if (!isDomainError(err)) throw err;
      return { status: 400, error: 'The passkey could not be added. Try again.' };
    }
  }

  async rename(s: Signed, passkeyId: string, form: Record<string, string>): Promise<Extras> {
    const name = str(form.name).trim();
    if (!name || name.length > 100)
      return { status: 400, error: 'A passkey name has 1 to 100 characters.' };
    try {
      await this.passkeys.rename(s.tenantId, s.user.user_id, passkeyId, name, s.ctx);
      return { message: 'Passkey renamed.' };
    } catch (err) {
      if (!isDomainError(err)) throw err;
      return { status: statusOf(err), error: 'That passkey is not yours or is gone.' };
    }
  }

  async remove(s: Signed, passkeyId: string): Promise<Extras> {
    try {
      await this.passkeys.remove(s.tenantId, s.user.user_id, passkeyId, s.ctx);
      return { message: 'Passkey deleted.' };
    } catch (err) {
      if (!isDomainError(err)) throw err;
      return { status: statusOf(err), error: 'That passkey is not yours or is gone.' };
    }
  }
}

function deviceName(_s: Signed): string {
  return `Passkey added ${new Date().toISOString().slice(0, 10)}`;
}
