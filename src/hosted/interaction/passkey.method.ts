import { Injectable } from '@nestjs/common';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { isDomainError } from '../../common/domain-error.js';
import { PasskeysService } from '../../passkeys/passkeys.service.js';
import type { LoginMethod, LoginMethodView, LoginOutcome, Settings } from './login-methods.js';
import { WEBAUTHN_SCRIPTS } from '../kit/steps.js';
import { esc } from '../kit/layout.js';

const FAILED = 'The passkey could not be verified. Try again or use another way to sign in.';
/** An assertion is a few kilobytes; anything far larger is not one. */
const MAX_RESPONSE_CHARS = 32 * 1024;

/** The login route's sibling that hands out assertion options (see LoginController). */
export function passkeyOptionsAction(loginAction: string): string {
  return `${loginAction}/passkey-options`;
}

/**
 * Passwordless sign-in with a discoverable passkey: no username is typed, the authenticator
 * says who the user is. The section needs JavaScript (it stays hidden without it) and also
 * offers the passkey in the username field's autofill (conditional UI) where supported.
 */
@Injectable()
export class PasskeyLoginMethod implements LoginMethod {
  readonly id = 'passkey';
  readonly failureMessage = FAILED;

  constructor(private readonly passkeys: PasskeysService) {}

  enabled(settings: Settings): boolean {
    return settings.passkey_enabled;
  }

  loginName(): string | undefined {
    return undefined;
  }

  render(v: LoginMethodView): string {
    return `<section class="method" aria-label="Sign in with a passkey" data-passkey-section hidden>
<form method="post" action="${esc(v.action)}" data-passkey-login data-autofill data-options="${esc(passkeyOptionsAction(v.action))}">
<input type="hidden" name="csrf" value="${esc(v.csrf)}">
<input type="hidden" name="method" value="passkey">
<input type="hidden" name="challenge_id" value="">
<input type="hidden" name="response" value="">
<p class="alert" role="alert" data-passkey-error hidden></p>
<button type="button" class="secondary" data-passkey-start hidden>Sign in with a passkey</button>
</form>
</section>
${WEBAUTHN_SCRIPTS}`;
  }

  async authenticate(
    tenantId: string,
    form: Record<string, string>,
    _settings: Settings,
  ): Promise<LoginOutcome> {
    const raw = typeof form.response === 'string' ? form.response : '';
    if (!raw || raw.length > MAX_RESPONSE_CHARS) return { status: 'failed', message: FAILED };
    let response: AuthenticationResponseJSON;
    try {
      response = JSON.parse(raw) as AuthenticationResponseJSON;
    } catch {
      return { status: 'failed', message: FAILED };
    }
    if (!response || typeof response !== 'object') return { status: 'failed', message: FAILED };
    try {
      const userId = await this.passkeys.verifyAuthentication(
        tenantId,
        form.challenge_id,
        response,
      );
      // User verification is required: possession and a PIN or biometric, two factors in one.
      return { status: 'success', accountId: userId, amr: ['hwk', 'mfa'] };
    } catch (err) {
      if (isDomainError(err)) return { status: 'failed', message: FAILED };
      throw err;
    }
  }
}
