import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { authContext } from '../../oidc/auth-context.js';
import { SessionsService } from '../../sessions/sessions.service.js';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import { InteractionContext, type Loaded, type SignedIn } from './interaction-context.js';

/** The end of every sign-in, whichever steps led there. */
@Injectable()
export class SignInCompletion {
  constructor(
    private readonly context: InteractionContext,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly sessions: SessionsService,
  ) {}

  /** Every step passed: audit, metrics, the session's sign-in record, back to the provider. */
  async complete(l: Loaded, http: PageRequest, state: SignedIn): Promise<PageResult> {
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
    return this.context.finish(
      l,
      http,
      { login: { accountId: state.accountId, amr, acr, remember: true, ts } },
      false,
    );
  }
}
