import { Injectable } from '@nestjs/common';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import { InteractionContext, isPage, type Loaded } from './interaction-context.js';
import { consentPage } from './views.js';

interface MissingGrant {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

/** Claims the provider always releases: not worth asking about. */
const IMPLIED_CLAIMS = ['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss'];

/**
 * Consent: the scopes and claims the client asks for that the user has not granted yet. It is
 * the page of the `consent` prompt; first-party clients get consent without a page.
 */
@Injectable()
export class ConsentStep {
  constructor(private readonly context: InteractionContext) {
    context.onPrompt('consent', (l, http) =>
      // First-party apps are trusted: asked for consent (prompt=consent), they get it.
      l.client?.first_party ? this.grant(l, http) : this.render(l),
    );
  }

  /** POST consent: grant what the prompt found missing. */
  async submit(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.context.loadAt('consent', tenantId, uid, http, form);
    if (isPage(l)) return l;
    return this.grant(l, http);
  }

  private render(l: Loaded): PageResult {
    const details = l.interaction.prompt.details as MissingGrant;
    const scopes = [
      ...(details.missingOIDCScope ?? []),
      ...Object.values(details.missingResourceScopes ?? {}).flat(),
    ];
    return {
      status: 200,
      html: consentPage(l.branding, {
        client: l.clientDisplay,
        scopes: [...new Set(scopes)],
        claims: (details.missingOIDCClaims ?? []).filter((c) => !IMPLIED_CLAIMS.includes(c)),
        action: l.actions.consent,
        abortAction: l.actions.abort,
        csrf: l.csrf,
      }),
    };
  }

  private async grant(l: Loaded, http: PageRequest): Promise<PageResult> {
    const { provider } = l.tenant;
    const { interaction } = l;
    const details = interaction.prompt.details as MissingGrant;
    const grant =
      (interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined) ??
      new provider.Grant({
        accountId: interaction.session!.accountId,
        clientId: interaction.params.client_id as string,
      });
    if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims?.length) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return this.context.finish(l, http, { consent: { grantId } });
  }
}
