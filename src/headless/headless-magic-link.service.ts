import { Injectable } from '@nestjs/common';
import { isDomainError } from '../common/domain-error.js';
import { MagicLinksService } from '../email-flows/magic-links.service.js';
import { SignInRules } from '../hosted/interaction/sign-in-rules.js';
import { OidcProviders } from '../oidc/oidc-providers.service.js';
import { authnProblem } from './headless-problems.js';
import { HeadlessSignIn, type Caller, type StepAnswer } from './headless-sign-in.service.js';

const METHOD = 'magic_link';

/**
 * Sign-in links by mail for custom UIs (decision 0032). The custom UI holds the step (the sealed
 * step_token carries the asking side's nonce, where the pages use a cookie), so the mailed link
 * opened anywhere shows its 6-digit code, which the user types into the custom UI: the session
 * ends up where the authorisation and the client's PKCE are. Same rules as the pages: the answer
 * does not tell whether the address has an account, mail limits, blocker, second factor.
 */
@Injectable()
export class HeadlessMagicLinks {
  constructor(
    private readonly flow: HeadlessSignIn,
    private readonly links: MagicLinksService,
    private readonly rules: SignInRules,
    private readonly providers: OidcProviders,
  ) {}

  async request(
    tenantId: string,
    body: { auth_req_id: string; email: string },
    caller: Caller,
  ): Promise<StepAnswer> {
    const l = await this.flow.load(tenantId, body.auth_req_id, caller);
    this.flow.enabledMethod(l, METHOD);
    const email = body.email.trim();
    const nonce = this.links.newNonce();
    const base = this.providers.issuerOf(tenantId);
    try {
      await this.links.request(
        tenantId,
        email,
        l.uid,
        nonce,
        (token) => `${base}/interaction/${l.uid}/login/magic-link/open?token=${token}`,
        caller.ip,
      );
    } catch (err) {
      if (!isDomainError(err) || err.kind !== 'too-many') throw err;
      throw authnProblem('authn-rate-limited', 'Too many requests from your network; try later');
    }
    const state = { stage: 'email_code' as const, accountId: '', amr: [], method: METHOD };
    return this.flow.continueWith(l, 'magic_link_code', { ...state, email, nonce });
  }

  async verify(
    tenantId: string,
    body: { auth_req_id: string; step_token: string; code: string },
    caller: Caller,
  ): Promise<StepAnswer> {
    const l = await this.flow.load(tenantId, body.auth_req_id, caller);
    const method = this.flow.enabledMethod(l, METHOD);
    const state = this.flow.openStep(l, body.step_token, 'email_code');
    if (!state.email || !state.nonce || state.method !== METHOD) throw this.flow.stepExpired();
    const form = { via: 'code', email: state.email, code: body.code, nonce: state.nonce };
    return this.flow.afterFirstFactor(l, caller, await this.rules.attempt(l, caller, method, form));
  }
}
