import { Injectable } from '@nestjs/common';
import { isDomainError } from '../../common/domain-error.js';
import { IdentityLinksService } from '../../upstream/identity-links.service.js';
import { UpstreamProvidersService } from '../../upstream/upstream-providers.service.js';
import type { MeIdentity } from '../../users/me-sections.js';
import { statusOf } from '../kit/page-errors.js';
import { esc } from '../kit/layout.js';
import type { Extras, Signed } from './account.service.js';

/** The account page's "Connected accounts": the user's upstream links and the providers to add. */
export interface ConnectedView {
  links: MeIdentity[];
  /** Enabled providers the user has no link to: "Connect <label>" buttons. */
  available: Array<{ provider_id: string; label: string; icon_url: string | null; href: string }>;
}

/**
 * Connected accounts (issue 21): list the links, unlink one (never the last way to sign in;
 * like deleting a passkey here, no new sign-in is asked), and the buttons that start linking
 * another provider at /<tenant>/upstream/<provider>/link (the upstream sign-in flow's route).
 */
@Injectable()
export class AccountConnected {
  constructor(
    private readonly links: IdentityLinksService,
    private readonly providers: UpstreamProvidersService,
  ) {}

  async view(s: Signed): Promise<ConnectedView> {
    const [links, enabled] = await Promise.all([
      this.links.views(s.tenantId, s.user.user_id),
      this.providers.listEnabled(s.tenantId),
    ]);
    const linked = new Set(links.map((l) => l.provider_id));
    return {
      links,
      available: enabled
        .filter((p) => !linked.has(p.provider_id))
        .map((p) => ({
          provider_id: p.provider_id,
          label: p.label,
          icon_url: p.icon_url,
          href: `/${s.tenantId}/upstream/${encodeURIComponent(p.provider_id)}/link`,
        })),
    };
  }

  async unlink(s: Signed, linkId: string): Promise<Extras> {
    try {
      const label = (await this.links.views(s.tenantId, s.user.user_id)).find(
        (l) => l.id === linkId,
      )?.label;
      await this.links.unlink(s.tenantId, s.user.user_id, linkId, s.ctx);
      return { message: `${label ?? 'The account'} is disconnected.` };
    } catch (err) {
      if (!isDomainError(err)) throw err;
      if (err.code === 'last-sign-in-method')
        return {
          status: 409,
          error: `You cannot disconnect this account: it is the only way left to sign in. Set a password or add a passkey first.`,
        };
      return { status: statusOf(err), error: 'That connected account is not yours or is gone.' };
    }
  }
}

function csrfField(csrf: string) {
  return `<input type="hidden" name="csrf" value="${esc(csrf)}">`;
}

function icon(url: string | null): string {
  return url ? `<img src="${esc(url)}" alt="" width="20" height="20" class="provider-icon">` : '';
}

/** The section's HTML; nothing when the tenant offers no provider and the user has no link. */
export function connectedSection(v: { base: string; csrf: string; connected: ConnectedView }) {
  const { links, available } = v.connected;
  if (!links.length && !available.length) return '';
  const rows = links
    .map(
      (l) => `<tr>
<td>${icon(l.icon_url)}<strong>${esc(l.label)}</strong></td>
<td>${esc(l.email ?? l.subject)}</td>
<td><time datetime="${esc(l.created_at)}">${esc(l.created_at.slice(0, 10))}</time></td>
<td><form method="post" action="${esc(v.base)}/connected/${esc(l.id)}/unlink">${csrfField(v.csrf)}
<button type="submit" class="secondary" aria-label="Disconnect ${esc(l.label)}">Disconnect</button></form></td>
</tr>`,
    )
    .join('');
  const buttons = available
    .map(
      (p) =>
        `<a class="connect" href="${esc(p.href)}" data-connect="${esc(p.provider_id)}">${icon(p.icon_url)}Connect ${esc(p.label)}</a>`,
    )
    .join('');
  return `<section class="card" aria-labelledby="connected-h">
<h2 id="connected-h">Connected accounts</h2>
<style>.provider-icon{vertical-align:middle;margin-right:.4rem}.connect{display:inline-flex;align-items:center;gap:.2rem;border:1px solid var(--primary);color:var(--primary);border-radius:4px;padding:.4rem .8rem;margin:.5rem .5rem 0 0;text-decoration:none;font-size:.9rem}</style>
${links.length ? `<table><thead><tr><th scope="col">Provider</th><th scope="col">Account</th><th scope="col">Connected</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead><tbody>${rows}</tbody></table>` : '<p>No other account is connected yet.</p>'}
${available.length ? `<p class="muted">Sign in with another account too:</p><div>${buttons}</div>` : ''}
</section>`;
}
