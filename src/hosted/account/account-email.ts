import { Injectable } from '@nestjs/common';
import { isEmail } from 'class-validator';
import { isDomainError } from '../../common/domain-error.js';
import { EmailFlowsService } from '../../email-flows/email-flows.service.js';
import { policyOf, type PinPatternPolicy } from '../../pin-pattern/pin-pattern-policy.js';
import { PinPatternService } from '../../pin-pattern/pin-pattern.service.js';
import { PIN_PATTERN_SCRIPTS } from '../assets/pin-pattern-script.js';
import { esc } from '../kit/layout.js';
import type { PageReply } from '../kit/page-reply.js';
import { statusOf } from '../kit/page-errors.js';
import {
  factorWords,
  PIN_PATTERN_STYLE,
  pinPatternData,
  pinPatternFields,
} from '../interaction/pin-pattern-view.js';
import type { Extras, HttpIn, Signed } from './account.service.js';

const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 64 * 1024) : '');

/** What the email section is drawn with: the PIN/pattern policy when a proof comes first. */
export interface EmailChangeView {
  proof: PinPatternPolicy | null;
}

/**
 * The account page's email change. A user who has a PIN/pattern proves it first, in the same
 * form: the page's script runs aux-challenge and aux-authenticate (these JSON routes, CSRF and
 * session checked like every form) and then posts the form, whose change spends the proof
 * (EmailFlowsService.requestEmailChange). Without the proof the post is refused with a message.
 */
@Injectable()
export class AccountEmail {
  constructor(
    private readonly flows: EmailFlowsService,
    private readonly pinPattern: PinPatternService,
  ) {}

  async view(s: Signed): Promise<EmailChangeView> {
    const policy = policyOf(s.settings);
    const needed = policy && (await this.pinPattern.proofNeeded(s.tenantId, s.user.user_id));
    return { proof: needed ? policy : null };
  }

  /** POST email: mails a confirmation link to the new address. */
  async change(s: Signed, form: Record<string, string>): Promise<Extras> {
    const next = str(form.new_email).trim();
    if (!next || next.length > 254 || !isEmail(next))
      return { status: 400, error: 'Enter the new email address.' };
    try {
      await this.flows.requestEmailChange(s.tenantId, s.user.user_id, next, s.ctx);
    } catch (err) {
      if (!isDomainError(err)) throw err;
      if (err.code === 'pin-pattern-proof-required') {
        const policy = policyOf(s.settings);
        const words = policy ? factorWords(policy) : 'PIN or pattern';
        return { status: 403, error: `Confirm it is you with your ${words} first.` };
      }
      if (err.kind === 'unavailable')
        return { status: 503, error: 'Email cannot be sent here now. Try again later.' };
      return { status: statusOf(err), error: err.message };
    }
    return { message: `We sent a link to ${next}. Open it to confirm the change.` };
  }

  /** POST pin-pattern/aux-challenge (JSON) */
  auxChallenge(s: Signed, form: Record<string, string>, http: HttpIn): Promise<PageReply> {
    return this.json(() =>
      this.pinPattern.auxChallenge(
        s.tenantId,
        s.user.user_id,
        str(form.cipherKey).slice(0, 2048),
        http,
      ),
    );
  }

  /** POST pin-pattern/aux-authenticate (JSON) */
  auxAuthenticate(s: Signed, form: Record<string, string>, http: HttpIn): Promise<PageReply> {
    return this.json(() =>
      this.pinPattern.auxVerify(
        s.tenantId,
        s.user.user_id,
        { challengeId: str(form.challenge_id), finalization: str(form.challenge_data) },
        http,
      ),
    );
  }

  private async json(action: () => Promise<unknown>): Promise<PageReply> {
    try {
      return { status: 200, json: await action() };
    } catch (err) {
      if (!isDomainError(err)) throw err;
      return { status: statusOf(err), json: { error: err.code, detail: err.message } };
    }
  }
}

/** The email section of the account page. */
export function emailSection(
  v: { base: string; csrf: string; email: string | null },
  change: EmailChangeView,
): string {
  const csrf = `<input type="hidden" name="csrf" value="${esc(v.csrf)}">`;
  const input = `<label for="new_email">New email address</label>
<input id="new_email" type="email" name="new_email" autocomplete="email" maxlength="254" required>`;
  const intro = `<p class="muted">${v.email ? `Now: <strong>${esc(v.email)}</strong>. ` : ''}We send a link to the new address; the change is made when you open it.</p>`;
  if (!change.proof)
    return `<section class="card" aria-labelledby="email-h">
<h2 id="email-h">Email address</h2>
${intro}
<form method="post" action="${esc(v.base)}/email">
${csrf}
${input}
<button type="submit">Change email</button>
</form>
</section>`;
  const policy = change.proof;
  const words = factorWords(policy);
  const data = pinPatternData(policy, {
    mode: 'aux',
    'aux-challenge': `${v.base}/pin-pattern/aux-challenge`,
    'aux-authenticate': `${v.base}/pin-pattern/aux-authenticate`,
  });
  return `${PIN_PATTERN_STYLE}<section class="card" aria-labelledby="email-h">
<h2 id="email-h">Email address</h2>
${intro}
<div class="pp" data-pin-pattern-section hidden>
<form method="post" action="${esc(v.base)}/email" data-pin-pattern ${data}>
${csrf}
${input}
<p>Confirm it is you with your ${esc(words)}.</p>
${pinPatternFields(policy)}
<p class="alert" role="alert" data-pp-error hidden></p>
<button type="submit" data-pp-submit>Confirm and change email</button>
</form>
</div>
<noscript><p class="muted">Changing the email asks for your ${esc(words)}, which needs JavaScript.</p></noscript>
</section>
${PIN_PATTERN_SCRIPTS}`;
}
