import { Injectable } from '@nestjs/common';
import { PinPatternService } from '../../pin-pattern/pin-pattern.service.js';
import { policyOf } from '../../pin-pattern/pin-pattern-policy.js';
import { PIN_PATTERN_SCRIPTS } from '../assets/pin-pattern-script.js';
import type { LoginMethod, LoginMethodView, LoginOutcome, Settings } from './login-methods.js';
import { esc } from '../kit/layout.js';
import {
  factorWords,
  PIN_PATTERN_STYLE,
  pinPatternData,
  pinPatternFields,
} from './pin-pattern-view.js';

const FAILED = 'The username, PIN or pattern is incorrect.';

/**
 * Sign-in with a PIN and/or a drawn pattern (the tenant's `login_order`), proven with OPAQUE in
 * the page: the page's script (src/hosted/assets/pin-pattern-script.ts) runs the challenge and
 * authenticate calls of `/<t>/authn/zkp` with this interaction as `auth_req_id` and posts the
 * nonce it gets back; this method spends the nonce. Wrong PINs are counted where they are
 * checked (PinPatternService), so the method guards itself; the login still checks the blocker
 * for the typed username first, so the right PIN is refused while that login is blocked.
 */
@Injectable()
export class PinPatternLoginMethod implements LoginMethod {
  readonly id = 'pin-pattern';
  readonly failureMessage = FAILED;
  readonly guardsItself = true;
  readonly scripts = 'wasm' as const;

  constructor(private readonly pinPattern: PinPatternService) {}

  enabled(settings: Settings): boolean {
    return policyOf(settings) !== null;
  }

  loginName(form: Record<string, string>): string | undefined {
    return typeof form.login === 'string' && form.login.trim() ? form.login : undefined;
  }

  render(v: LoginMethodView): string {
    const policy = policyOf(v.settings);
    if (!policy) return '';
    const base = v.action.replace(/\/interaction\/[^/]+\/login$/, '');
    const q = `?auth_req_id=${encodeURIComponent(v.uid)}`;
    const signup = v.settings.register_enable;
    const data = pinPatternData(policy, {
      challenge: `${base}/authn/zkp/challenge${q}`,
      authenticate: `${base}/authn/zkp/authenticate${q}`,
      'register-start': `${base}/authn/zkp/register/start${q}`,
      register: `${base}/authn/zkp/register${q}`,
    });
    return `${PIN_PATTERN_STYLE}<section class="method pp" aria-label="Sign in with a PIN and pattern" data-pin-pattern-section hidden>
<form method="post" action="${esc(v.action)}" data-pin-pattern ${data}>
<input type="hidden" name="csrf" value="${esc(v.csrf)}">
<input type="hidden" name="method" value="pin-pattern">
<input type="hidden" name="oid_nonce" value="">
<label for="pp-login">Username${signup ? '' : ' or email'}</label>
<input id="pp-login" type="text" name="login" value="${esc(v.loginHint ?? '')}" autocomplete="username" autocapitalize="none" spellcheck="false" required>
<div data-signup-only hidden><label for="pp-email">Email</label>
<input id="pp-email" type="email" name="email" autocomplete="email"></div>
${pinPatternFields(policy)}
<p class="alert" role="alert" data-pp-error hidden></p>
<button type="submit" data-pp-submit>Sign in with ${factorWords(policy)}</button>
${signup ? '<button type="button" class="secondary" data-pp-mode>New here? Create an account with a PIN</button>' : ''}
</form>
<p class="links"><a href="${esc(`${base}/login/pin-pattern/forgot`)}">Forgot ${factorWords(policy)}?</a></p>
</section>
${PIN_PATTERN_SCRIPTS}`;
  }

  async authenticate(
    tenantId: string,
    form: Record<string, string>,
    _settings: Settings,
    _ctx?: unknown,
    uid?: string,
  ): Promise<LoginOutcome> {
    if (!uid) return { status: 'failed', message: FAILED };
    const proved = await this.pinPattern.redeemNonce(tenantId, form.oid_nonce, uid);
    if (!proved) return { status: 'failed', message: FAILED };
    return { status: 'success', accountId: proved.userId, amr: proved.amr };
  }
}
