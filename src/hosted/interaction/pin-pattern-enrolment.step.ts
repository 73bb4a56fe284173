import { Injectable } from '@nestjs/common';
import { isDomainError } from '../../common/domain-error.js';
import { PinPatternService } from '../../pin-pattern/pin-pattern.service.js';
import { policyOf } from '../../pin-pattern/pin-pattern-policy.js';
import { PIN_PATTERN_SCRIPTS } from '../assets/pin-pattern-script.js';
import { esc, layout } from '../kit/layout.js';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import { InteractionContext, isPage, type Loaded, type SignedIn } from './interaction-context.js';
import {
  factorWords,
  PIN_PATTERN_STYLE,
  pinPatternData,
  pinPatternFields,
} from './pin-pattern-view.js';

const str = (v: unknown) => (typeof v === 'string' ? v : '');

function hidden(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('\n');
}

/**
 * The offer after a sign-in by another method: where the tenant uses a PIN/pattern and the user
 * has none, the user may set one now (the page's script runs OPAQUE registration against the
 * two JSON routes below, proven by the step's sealed state) or go on without it. Either way
 * the next post (SignInProgress.continue) finishes the sign-in.
 */
@Injectable()
export class PinPatternEnrolmentStep {
  constructor(
    private readonly context: InteractionContext,
    private readonly pinPattern: PinPatternService,
  ) {}

  /**
   * Whether a sign-in that has passed its factors should offer a PIN/pattern: the tenant uses
   * them, the user has none and did not just use one. The headless API says so in its answer.
   */
  async offered(l: Loaded, state: SignedIn): Promise<boolean> {
    if (!policyOf(l.settings) || state.method === 'pin-pattern') return false;
    return !(await this.pinPattern.status(l.tenantId, state.accountId)).enrolled;
  }

  /** The offer page, or undefined when there is nothing to offer. */
  async offer(l: Loaded, state: SignedIn): Promise<PageResult | undefined> {
    const policy = policyOf(l.settings);
    if (!policy || !(await this.offered(l, state))) return undefined;
    const fields = this.context.stepFields(l, { ...state, stage: 'done' });
    const words = factorWords(policy);
    const data = pinPatternData(policy, {
      mode: 'enrol',
      'enrol-start': `${l.actions.base}/pin-pattern/enrol/start`,
      enrol: `${l.actions.base}/pin-pattern/enrol`,
    });
    const html = layout(
      l.branding,
      `Set up a ${words}`,
      `${PIN_PATTERN_STYLE}
<h1>Set up a ${esc(words)}</h1>
<p>Next time, sign in with a ${esc(words)} instead. They never leave this device.</p>
<section class="pp" aria-label="Choose a ${esc(words)}" data-pin-pattern-section hidden>
<form method="post" action="${esc(l.actions.continue)}" data-pin-pattern ${data}>
${hidden(fields)}
${pinPatternFields(policy)}
<p class="alert" role="alert" data-pp-error hidden></p>
<button type="submit" data-pp-submit>Save and continue</button>
</form>
</section>
<form method="post" action="${esc(l.actions.continue)}">
${hidden(fields)}
<button type="submit" class="secondary">Not now</button>
</form>
${PIN_PATTERN_SCRIPTS}`,
    );
    return { status: 200, html, scripts: 'wasm' };
  }

  /** POST pin-pattern/enrol/start (JSON): the OPAQUE registration response for this user. */
  enrolStart(tenantId: string, uid: string, form: Record<string, string>, http: PageRequest) {
    return this.run(tenantId, uid, form, http, (accountId) =>
      this.pinPattern.registerStart(
        tenantId,
        { userId: accountId },
        str(form.registration_request).slice(0, 2048),
      ),
    );
  }

  /** POST pin-pattern/enrol (JSON): stores the registration record. */
  enrol(tenantId: string, uid: string, form: Record<string, string>, http: PageRequest) {
    return this.run(tenantId, uid, form, http, (accountId) =>
      this.pinPattern.setForUser(
        tenantId,
        accountId,
        {
          record: str(form.encrypted_commitment),
          protoVersion: str(form.proto_version),
        },
        this.context.actor(http, { accountId }),
      ),
    );
  }

  private async run(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
    action: (accountId: string) => Promise<unknown>,
  ): Promise<PageResult> {
    const step = await this.context.loadStep(tenantId, uid, form, http, ['done']);
    if (isPage(step)) return { status: step.status, json: { error: 'invalid_request' } };
    try {
      return { status: 200, json: await action(step.state.accountId) };
    } catch (err) {
      if (!isDomainError(err)) throw err;
      return { status: 400, json: { error: 'invalid_request', detail: err.message } };
    }
  }
}
