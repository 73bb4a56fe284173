import { Module, type OnModuleInit } from '@nestjs/common';
import { BlockerModule } from '../../blocker/blocker.module.js';
import { OidcModule } from '../../oidc/oidc.module.js';
import { UpstreamSignInModule } from '../../upstream/upstream-sign-in.module.js';
import { UsersModule } from '../../users/users.module.js';
import { InteractionContext, loginHintOf } from '../interaction/interaction-context.js';
import { LoginModule } from '../interaction/login.module.js';
import { UpstreamCompletionStep } from './upstream-completion.step.js';
import { UpstreamLink } from './upstream-link.js';
import { UpstreamController, UpstreamInteractionController } from './upstream.controller.js';
import { CHOOSE, UpstreamFlow } from './upstream.flow.js';
import { upstreamSection } from './upstream.views.js';

/**
 * Upstream sign-in pages (issue 21): the routes under `/<tenant>/upstream/<provider>`, the
 * interaction's completion route, the login page's "Sign in with <label>" buttons and the
 * domain hints (a login_hint or a typed address whose domain a provider claims goes straight
 * to it).
 */
@Module({
  imports: [LoginModule, OidcModule, UsersModule, BlockerModule, UpstreamSignInModule],
  controllers: [UpstreamController, UpstreamInteractionController],
  providers: [UpstreamFlow, UpstreamLink, UpstreamCompletionStep],
  exports: [UpstreamFlow],
})
export class UpstreamPagesModule implements OnModuleInit {
  constructor(
    private readonly context: InteractionContext,
    private readonly flow: UpstreamFlow,
  ) {}

  onModuleInit() {
    this.context.addLoginSection(async (l) =>
      upstreamSection(await this.flow.buttons(l.tenantId, l.uid)),
    );
    const route = async (tenantId: string, uid: string, login: string | undefined) => {
      const row = await this.flow.providerForEmail(tenantId, login);
      if (!row) return undefined;
      return this.flow.start(tenantId, row.provider_id, uid, login);
    };
    this.context.addLoginRoute((l, login) => route(l.tenantId, l.uid, login));
    // A login_hint of a hinted domain goes straight on, unless the user came back to choose.
    this.context.beforePrompt('login', (l, http) =>
      new URL(http.req.url ?? '/', 'http://local').searchParams.has(CHOOSE)
        ? Promise.resolve(undefined)
        : route(l.tenantId, l.uid, loginHintOf(l)),
    );
  }
}
