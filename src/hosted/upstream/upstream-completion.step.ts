import { Injectable } from '@nestjs/common';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import { SignInCompletion } from '../interaction/completion.js';
import { InteractionContext, isPage, type SignedIn } from '../interaction/interaction-context.js';
import { SignInProgress } from '../interaction/progress.js';
import { UpstreamFlow } from './upstream.flow.js';

/**
 * GET /<tenant>/interaction/<uid>/upstream?result=…: the callback's sealed result (bound to the
 * tenant and this interaction, two minutes) reaches the interaction under its own path, where the
 * browser's interaction cookie proves it is the browser that started the sign-in. The upstream
 * sign-in is a factor of its own (`fed`): with the provider's `second_factor: local` the tenant's
 * usual rule follows (the user's TOTP, or enrolment when 2FA is required); with `skip` it is
 * enough. Then the same completion as every method (stipulations, audit, session).
 */
@Injectable()
export class UpstreamCompletionStep {
  constructor(
    private readonly context: InteractionContext,
    private readonly progress: SignInProgress,
    private readonly completion: SignInCompletion,
    private readonly flow: UpstreamFlow,
  ) {}

  async complete(
    tenantId: string,
    uid: string,
    result: unknown,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.context.loadAt('login', tenantId, uid, http);
    if (isPage(l)) return l;
    const r = this.flow.openResult(l, result);
    if (!r) return this.context.stepExpired(l);
    const state: SignedIn = {
      accountId: r.accountId,
      amr: ['fed'],
      method: `upstream:${r.providerId}`,
    };
    return r.skipSecondFactor
      ? this.completion.complete(l, http, state)
      : this.progress.next(l, http, state);
  }
}
