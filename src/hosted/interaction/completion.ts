import { Injectable } from '@nestjs/common';
import type { InteractionResults } from 'oidc-provider';
import { AuditService } from '../../audit/audit.service.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { authContext } from '../../oidc/auth-context.js';
import { SessionsService } from '../../sessions/sessions.service.js';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import { InteractionContext, type Loaded, type SignedIn } from './interaction-context.js';
import { StipulationRules } from './stipulations.js';
import { StipulationPages } from './stipulation-pages.js';

/** The end of every sign-in, whichever steps led there. */
@Injectable()
export class SignInCompletion {
  constructor(
    private readonly context: InteractionContext,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly sessions: SessionsService,
    private readonly stipulations: StipulationRules,
    private readonly stipulationPages: StipulationPages,
  ) {}

  /**
   * Every step passed: the tenant's stipulations first (an unmet one shows its page, whose post
   * comes back here), then audit, metrics, the session's sign-in record, back to the provider.
   */
  async complete(l: Loaded, http: PageRequest, state: SignedIn): Promise<PageResult> {
    const unmet = await this.stipulations.unmet(l.tenantId, l.settings, state.accountId);
    if (unmet) return this.stipulationPages.render(l, state, unmet.rule, unmet.user);
    return this.context.finish(l, http, await this.record(l, http, state), false);
  }

  /**
   * Audit, metrics and the session's sign-in record of a finished sign-in: the interaction
   * result to hand to the provider (the pages through the browser's interaction cookie, the
   * headless API by the interaction's id), with its authentication context (amr, acr).
   */
  async record(l: Loaded, http: PageRequest, state: SignedIn): Promise<InteractionResults> {
    const { amr, acr } = authContext(state.amr);
    const event = this.context.auditEvent(l, http, state.method);
    this.audit.record({
      ...event,
      type: 'login.success',
      actorType: 'user',
      actorId: state.accountId,
      subjectId: state.accountId,
      details: { ...event.details, amr, acr },
    });
    this.metrics.signIn('success', state.method);
    const ts = await this.sessions.recordSignIn(
      l.tenantId,
      state.accountId,
      http.ip,
      http.userAgent,
    );
    return { login: { accountId: state.accountId, amr, acr, remember: true, ts } };
  }
}
