import QRCode from 'qrcode';
import { alertBlock, esc, layout, type Branding } from '../kit/layout.js';
import { STEP_STYLE, WEBAUTHN_SCRIPTS } from '../kit/steps.js';

/**
 * The link as a QR code: an inline SVG drawn on the server (no script, no image request, so
 * the page's strict CSP stays as it is). Only the account page that made the link shows it.
 */
export async function qrSvg(url: string): Promise<string> {
  const svg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return svg.replace(
    '<svg ',
    '<svg role="img" aria-label="QR code of the device link" width="200" height="200" ',
  );
}

function when(d: Date): string {
  const iso = d.toISOString();
  return `<time datetime="${esc(iso)}">${esc(iso.slice(0, 16).replace('T', ' '))} UTC</time>`;
}

/** The link page: whom it is for, and the button that registers a passkey on this device. */
export function deviceLinkPage(
  b: Branding,
  o: {
    action: string;
    optionsAction: string;
    csrf: string;
    name: string;
    maskedEmail: string | null;
    expiresAt: Date;
    error?: string;
  },
): string {
  return layout(
    b,
    'Add this device',
    `${STEP_STYLE}
<h1>Add this device</h1>
${alertBlock(o.error)}
<p>This link adds a passkey on this device for <strong>${esc(o.name)}</strong>${o.maskedEmail ? ` (${esc(o.maskedEmail)})` : ''}.</p>
<p class="note">It works once, until ${when(o.expiresAt)}. If this is not your account, close this page.</p>
<form method="post" action="${esc(o.action)}" data-passkey-register data-options="${esc(o.optionsAction)}">
<input type="hidden" name="csrf" value="${esc(o.csrf)}">
<input type="hidden" name="challenge_id" value="">
<input type="hidden" name="response" value="">
<p class="alert" role="alert" data-passkey-error hidden></p>
<noscript><p class="alert">Adding a passkey needs JavaScript.</p></noscript>
<button type="button" data-passkey-start hidden>Add a passkey on this device</button>
</form>
${WEBAUTHN_SCRIPTS}`,
  );
}

/** After the passkey: the link is spent; the user signs in with it (decision 0031). */
export function deviceLinkDonePage(b: Branding, o: { signInHref: string }): string {
  return layout(
    b,
    'Passkey added',
    `${STEP_STYLE}
<h1>Passkey added</h1>
<p class="ok" role="status">This device now has a passkey for your account. The link is used up.</p>
<p>Sign in with the passkey from the app you want to use, or open <a href="${esc(o.signInHref)}">your account page</a>.</p>`,
  );
}

/** A link that is wrong, used, revoked or expired: one page for all, nothing to guess from. */
export function deviceLinkBadPage(b: Branding, expired: boolean): string {
  return layout(
    b,
    'Link not valid',
    `<h1>This link does not work</h1>
<p class="alert" role="alert">${expired ? 'The link has expired.' : 'The link is invalid, was revoked or was already used.'}</p>
<p>Ask for a new link on your account page on a device where you are signed in, or ask your administrator.</p>`,
  );
}
