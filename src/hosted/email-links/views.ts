/** Pages of the mailed links: forgot password, choose a new password, a link's landing page. */
import { alertBlock, esc, layout, type Branding } from '../kit/layout.js';
import { STEP_STYLE } from '../kit/steps.js';

export function forgotPage(
  b: Branding,
  o: {
    action: string;
    csrf: string;
    sent?: boolean;
    error?: string;
    loginHref?: string;
    /** What is reset: "password" (the default), "PIN and pattern". */
    what?: string;
  },
): string {
  const what = o.what ?? 'password';
  const body = o.sent
    ? `<p class="ok" role="status">If an account has this address, we sent it a link to choose a new ${esc(what)}. The link works for a limited time.</p>`
    : `${alertBlock(o.error)}
<p>Enter the email address of your account and we will send you a link to choose a new ${esc(what)}.</p>
<form method="post" action="${esc(o.action)}">
<input type="hidden" name="csrf" value="${esc(o.csrf)}">
<label for="email">Email</label>
<input id="email" type="email" name="email" autocomplete="email" required autofocus>
<button type="submit">Send the link</button>
</form>`;
  const title = `Reset your ${what}`;
  return layout(b, title, `${STEP_STYLE}\n<h1>${esc(title)}</h1>\n${body}`);
}

export function resetPage(
  b: Branding,
  o: { action: string; csrf: string; token: string; minLength: number; error?: string },
): string {
  return layout(
    b,
    'Choose a new password',
    `${STEP_STYLE}
<h1>Choose a new password</h1>
${alertBlock(o.error)}
<form method="post" action="${esc(o.action)}">
<input type="hidden" name="csrf" value="${esc(o.csrf)}">
<input type="hidden" name="token" value="${esc(o.token)}">
<label for="password">New password</label>
<p class="note" id="password-help">At least ${o.minLength} characters.</p>
<input id="password" type="password" name="password" autocomplete="new-password" minlength="${o.minLength}" aria-describedby="password-help" required autofocus>
<label for="password2">Repeat the new password</label>
<input id="password2" type="password" name="password2" autocomplete="new-password" required>
<button type="submit">Save the password</button>
</form>`,
  );
}

/** A mailed link that no longer works, with the way to get a new one. */
export function badLinkPage(
  b: Branding,
  againHref: string,
  againText = 'Ask for a new link',
): string {
  return layout(
    b,
    'Link not valid',
    `<h1>This link does not work</h1>
<p class="alert" role="alert">This link is invalid, expired or already used.</p>
<p class="links"><a href="${esc(againHref)}">${esc(againText)}</a></p>`,
  );
}

/** A mailed link's landing page: one button, so a mail scanner following the link spends nothing. */
export function confirmLinkPage(
  b: Branding,
  o: { title: string; text: string; action: string; csrf: string; token: string; button: string },
): string {
  return layout(
    b,
    o.title,
    `<h1>${esc(o.title)}</h1>
<p>${esc(o.text)}</p>
<form method="post" action="${esc(o.action)}">
<input type="hidden" name="csrf" value="${esc(o.csrf)}">
<input type="hidden" name="token" value="${esc(o.token)}">
<button type="submit">${esc(o.button)}</button>
</form>`,
  );
}
