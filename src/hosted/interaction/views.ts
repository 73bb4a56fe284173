/** The sign-in and consent pages of an interaction. */
import {
  alertBlock,
  clientBlock,
  clientLinks,
  esc,
  layout,
  type Branding,
  type ClientDisplay,
} from '../kit/layout.js';

/** The login page: one section per sign-in method the tenant's policy enables. */
export function loginPage(
  b: Branding,
  opts: {
    client?: ClientDisplay;
    methods: string[];
    error?: string;
    abortAction: string;
    csrf: string;
    /** Links under the methods (forgot password, create an account). */
    links?: Array<{ href: string; text: string }>;
  },
): string {
  const links = opts.links?.length
    ? `<p class="links">${opts.links.map((l) => `<a href="${esc(l.href)}">${esc(l.text)}</a>`).join('')}</p>`
    : '';
  return layout(
    b,
    'Sign in',
    `<h1>Sign in</h1>
${clientBlock(opts.client)}
${alertBlock(opts.error)}
${opts.methods.join('\n')}
${links}
<form method="post" action="${esc(opts.abortAction)}">
<input type="hidden" name="csrf" value="${esc(opts.csrf)}">
<button type="submit" class="secondary">Cancel</button>
</form>
${clientLinks(opts.client)}`,
  );
}

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your name, username and language',
  email: 'See your email address',
  roles: 'See your roles',
  groups: 'See the groups you belong to',
  offline_access: 'Stay signed in when you are not using it',
};

export function consentPage(
  b: Branding,
  opts: {
    client?: ClientDisplay;
    scopes: string[];
    claims: string[];
    action: string;
    abortAction: string;
    csrf: string;
  },
): string {
  const items = [
    ...opts.scopes.map((s) => SCOPE_TEXT[s] ?? `Use the permission "${s}"`),
    ...opts.claims.map((c) => `See your ${c.replace(/_/g, ' ')}`),
  ];
  return layout(
    b,
    'Allow access',
    `<h1>Allow access?</h1>
${clientBlock(opts.client)}
<p>This application would like to:</p>
<ul class="scopes">${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>
<form method="post" action="${esc(opts.action)}">
<input type="hidden" name="csrf" value="${esc(opts.csrf)}">
<button type="submit">Allow</button>
</form>
<form method="post" action="${esc(opts.abortAction)}">
<input type="hidden" name="csrf" value="${esc(opts.csrf)}">
<button type="submit" class="secondary">Deny</button>
</form>
${clientLinks(opts.client)}`,
  );
}
