import { Injectable } from '@nestjs/common';
import { isDomainError } from '../../common/domain-error.js';
import { STATUS_OF_KIND } from '../../common/problem.js';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import { SignInCompletion } from './completion.js';
import { InteractionContext, isPage, type SignedIn } from './interaction-context.js';
import { StipulationActions, type StipulationInput } from './stipulation-actions.js';
import { StipulationPages } from './stipulation-pages.js';

/**
 * The posts of the stipulation pages: meet the rule (StipulationActions), then try to complete
 * the sign-in again, which shows the next unmet rule's page or goes back to the application.
 */
@Injectable()
export class StipulationsStep {
  constructor(
    private readonly context: InteractionContext,
    private readonly completion: SignInCompletion,
    private readonly actions: StipulationActions,
    private readonly pages: StipulationPages,
  ) {}

  /** POST stipulation/<what>: the form's input for the rule at hand. */
  async submit(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
    input: StipulationInput,
  ): Promise<PageResult> {
    const step = await this.context.loadStep(tenantId, uid, form, http, ['stipulation']);
    if (isPage(step)) return step;
    const { l, state } = step;
    const signedIn: SignedIn = { accountId: state.accountId, amr: state.amr, method: state.method };
    const outcome = await this.actions.meet(l, http, signedIn, input);
    if (outcome.kind === 'again')
      return this.pages.render(l, signedIn, outcome.rule, outcome.user, outcome);
    return this.completion.complete(l, http, signedIn);
  }

  /** POST stipulation/passkey-options: registration options for the user at hand (JSON). */
  async passkeyOptions(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.context.loadStep(tenantId, uid, form, http, ['stipulation']);
    if (isPage(step)) return { status: step.status, json: { error: 'invalid_request' } };
    const { l, state } = step;
    try {
      return { status: 200, json: await this.actions.passkeyOptions(l, state) };
    } catch (err) {
      // The ceremony's script reads JSON: the error answers in JSON too.
      if (isDomainError(err))
        return { status: STATUS_OF_KIND[err.kind], json: { error: err.message } };
      throw err;
    }
  }
}
