/**
 * The provider's own pages (device flow, sign-out, errors), drawn with the hosted kit and handed
 * to oidc/ through its ProviderPages port, so the provider never imports the hosted layer.
 */
import type { ProviderPages } from '../oidc/provider-pages.port.js';
import {
  alertBlock,
  clientBlock,
  errorPage,
  esc,
  layout,
  messagePage,
  PAGE_CSP,
  type Branding,
  type ClientDisplay,
} from './kit/layout.js';

export function logoutPage(
  b: Branding,
  opts: { action: string; xsrf: string; client?: ClientDisplay },
): string {
  return layout(
    b,
    'Sign out',
    `<h1>Sign out?</h1>
${opts.client ? `<p class="client">You are leaving <strong>${esc(opts.client.name)}</strong>.</p>` : ''}
<p>Do you want to sign out of ${esc(b.displayName)}?</p>
<form method="post" action="${esc(opts.action)}">
<input type="hidden" name="xsrf" value="${esc(opts.xsrf)}">
<button type="submit" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" class="secondary">No, stay signed in</button>
</form>`,
  );
}

/**
 * Front-Channel Logout: each signed-out app's logout URL in a hidden iframe (the CSP allows
 * frames from those origins only), then on to where the logout goes (Refresh header, link).
 */
export function frontChannelLogoutPage(
  b: Branding,
  opts: { frames: string[]; next: string },
): string {
  return layout(
    b,
    'Signed out',
    `<h1>Signed out</h1>
<p>Signing you out of your apps…</p>
${opts.frames.map((src) => `<iframe hidden title="sign-out" src="${esc(src)}"></iframe>`).join('\n')}
<p class="links"><a href="${esc(opts.next)}">Continue</a></p>`,
  );
}

export function deviceInputPage(
  b: Branding,
  opts: { action: string; xsrf: string; error?: string; code?: string },
): string {
  return layout(
    b,
    'Connect a device',
    `<h1>Connect a device</h1>
${alertBlock(opts.error)}
<form method="post" action="${esc(opts.action)}">
<input type="hidden" name="xsrf" value="${esc(opts.xsrf)}">
<label for="user_code">Code shown on your device</label>
<input id="user_code" type="text" name="user_code" value="${esc(opts.code ?? '')}" autocomplete="off" autocapitalize="characters" required autofocus>
<button type="submit">Continue</button>
</form>`,
  );
}

export function deviceConfirmPage(
  b: Branding,
  opts: { action: string; xsrf: string; userCode: string; client?: ClientDisplay },
): string {
  return layout(
    b,
    'Confirm device',
    `<h1>Confirm the device</h1>
${clientBlock(opts.client)}
<p>Check that your device shows this code:</p>
<code class="user-code">${esc(opts.userCode)}</code>
<form method="post" action="${esc(opts.action)}">
<input type="hidden" name="xsrf" value="${esc(opts.xsrf)}">
<input type="hidden" name="user_code" value="${esc(opts.userCode)}">
<input type="hidden" name="confirm" value="yes">
<button type="submit">Continue</button>
<button type="submit" class="secondary" name="abort" value="yes">Cancel</button>
</form>`,
  );
}

export const hostedProviderPages: ProviderPages = {
  csp: PAGE_CSP,
  error: errorPage,
  message: messagePage,
  logout: logoutPage,
  frontChannelLogout: frontChannelLogoutPage,
  deviceInput: deviceInputPage,
  deviceConfirm: deviceConfirmPage,
};
