/**
 * Pages of the steps around the login form: second factor, enrolment at sign-in, sign-up,
 * password reset. Plain forms; only the passkey parts need JavaScript (webauthn.js).
 */
import {
  IDP_WEBAUTHN_URL,
  SIMPLEWEBAUTHN_BROWSER_URL,
} from '../hosted/assets/assets.controller.js';
import { alertBlock, esc, layout, type Branding } from '../hosted/kit/layout.js';

/** The scripts of a page with a WebAuthn ceremony (both same-origin files, see PAGE_CSP_SCRIPTS). */
export const WEBAUTHN_SCRIPTS = `<script src="${esc(SIMPLEWEBAUTHN_BROWSER_URL)}"></script>
<script src="${esc(IDP_WEBAUTHN_URL)}"></script>`;

/** Styles of the step pages only (the shared layout stays small). */
export const STEP_STYLE = `<style>
.note{color:#444;font-size:.9rem}
.secret{font-family:ui-monospace,monospace;word-break:break-all;background:#f4f5f7;padding:.5rem;border-radius:4px}
.qr{display:block;margin:1rem auto;width:200px;height:200px}
ol.codes{columns:2;font-family:ui-monospace,monospace;font-size:1.05rem}
.ok{border:1px solid #1e7b34;background:#e8f5ec;color:#14502a;padding:.75rem;border-radius:4px}
</style>`;

function hidden(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('\n');
}

/** Cancels the sign-in: the application hears access_denied. */
function cancelForm(action: string | undefined, csrf: string | undefined): string {
  if (!action || !csrf) return '';
  return `<form method="post" action="${esc(action)}">
<input type="hidden" name="csrf" value="${esc(csrf)}">
<button type="submit" class="secondary">Cancel</button>
</form>`;
}

export function totpStepPage(
  b: Branding,
  o: { action: string; fields: Record<string, string>; error?: string; abortAction?: string },
): string {
  return layout(
    b,
    'Two-step verification',
    `${STEP_STYLE}
<h1>Two-step verification</h1>
${alertBlock(o.error)}
<form method="post" action="${esc(o.action)}">
${hidden(o.fields)}
<label for="code">Code from your authenticator app</label>
<p class="note" id="code-help">Enter the 6-digit code, or one of your recovery codes if you do not have your device.</p>
<input id="code" type="text" name="code" inputmode="text" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" aria-describedby="code-help" required autofocus>
<button type="submit">Verify</button>
</form>
${cancelForm(o.abortAction, o.fields.csrf)}`,
  );
}

export function enrolPage(
  b: Branding,
  o: {
    action: string;
    fields: Record<string, string>;
    secret: string;
    uri: string;
    qr: string;
    error?: string;
    abortAction?: string;
  },
): string {
  return layout(
    b,
    'Set up two-step verification',
    `${STEP_STYLE}
<h1>Set up two-step verification</h1>
${alertBlock(o.error)}
<p>${esc(b.displayName)} requires a second step when you sign in. Scan this QR code with an authenticator app, or type the key by hand.</p>
<img class="qr" src="${esc(o.qr)}" alt="QR code of the key below">
<p class="note">Key:</p>
<p class="secret" id="totp-secret">${esc(o.secret)}</p>
<p class="note"><a href="${esc(o.uri)}">Open in an authenticator app on this device</a></p>
<form method="post" action="${esc(o.action)}">
${hidden(o.fields)}
<label for="code">Code shown by the app</label>
<input id="code" type="text" name="code" inputmode="numeric" pattern="[0-9 ]*" autocomplete="one-time-code" required autofocus>
<button type="submit">Turn on</button>
</form>
${cancelForm(o.abortAction, o.fields.csrf)}`,
  );
}

export function recoveryCodesBlock(codes: string[]): string {
  return `<p>Keep these recovery codes somewhere safe. Each one signs you in once if you lose your device. They are shown only now.</p>
<ol class="codes" aria-label="Recovery codes">${codes.map((c) => `<li><code>${esc(c)}</code></li>`).join('')}</ol>`;
}

export function recoveryCodesPage(
  b: Branding,
  o: { action: string; fields: Record<string, string>; codes: string[] },
): string {
  return layout(
    b,
    'Recovery codes',
    `${STEP_STYLE}
<h1>Two-step verification is on</h1>
${recoveryCodesBlock(o.codes)}
<form method="post" action="${esc(o.action)}">
${hidden(o.fields)}
<button type="submit">I saved my codes, continue</button>
</form>`,
  );
}

export function signupPage(
  b: Branding,
  o: {
    action: string;
    fields: Record<string, string>;
    loginHref: string;
    error?: string;
    values?: { username?: string; email?: string };
    minLength: number;
  },
): string {
  return layout(
    b,
    'Create an account',
    `${STEP_STYLE}
<h1>Create an account</h1>
${alertBlock(o.error)}
<form method="post" action="${esc(o.action)}">
${hidden(o.fields)}
<label for="username">Username</label>
<input id="username" type="text" name="username" value="${esc(o.values?.username ?? '')}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
<label for="email">Email</label>
<input id="email" type="email" name="email" value="${esc(o.values?.email ?? '')}" autocomplete="email" required>
<label for="password">Password</label>
<p class="note" id="password-help">At least ${o.minLength} characters.</p>
<input id="password" type="password" name="password" autocomplete="new-password" minlength="${o.minLength}" aria-describedby="password-help" required>
<button type="submit">Create account</button>
</form>
<p class="links"><a href="${esc(o.loginHref)}">I already have an account</a></p>`,
  );
}

/** After sign-up: an optional passkey (needs JavaScript), or continue without one. */
export function signupPasskeyPage(
  b: Branding,
  o: {
    optionsAction: string;
    registerAction: string;
    continueAction: string;
    fields: Record<string, string>;
    error?: string;
  },
): string {
  return layout(
    b,
    'Add a passkey',
    `${STEP_STYLE}
<h1>Your account is ready</h1>
${alertBlock(o.error)}
<p>Add a passkey to sign in next time with your fingerprint, face or device PIN, without a password.</p>
<form method="post" action="${esc(o.registerAction)}" data-passkey-register data-options="${esc(o.optionsAction)}">
${hidden(o.fields)}
<input type="hidden" name="challenge_id" value="">
<input type="hidden" name="response" value="">
<p class="alert" role="alert" data-passkey-error hidden></p>
<button type="button" data-passkey-start hidden>Add a passkey</button>
</form>
<form method="post" action="${esc(o.continueAction)}">
${hidden(o.fields)}
<button type="submit" class="secondary">Not now, continue</button>
</form>
${WEBAUTHN_SCRIPTS}`,
  );
}

export function forgotPage(
  b: Branding,
  o: { action: string; csrf: string; sent?: boolean; error?: string; loginHref?: string },
): string {
  const body = o.sent
    ? `<p class="ok" role="status">If an account has this address, we sent it a link to choose a new password. The link works for a limited time.</p>`
    : `${alertBlock(o.error)}
<p>Enter the email address of your account and we will send you a link to choose a new password.</p>
<form method="post" action="${esc(o.action)}">
<input type="hidden" name="csrf" value="${esc(o.csrf)}">
<label for="email">Email</label>
<input id="email" type="email" name="email" autocomplete="email" required autofocus>
<button type="submit">Send the link</button>
</form>`;
  return layout(b, 'Reset your password', `${STEP_STYLE}\n<h1>Reset your password</h1>\n${body}`);
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

/** Asks for the address a sign-in code goes to. */
export function emailCodeRequestPage(
  b: Branding,
  o: {
    action: string;
    fields: Record<string, string>;
    loginHref: string;
    email?: string;
    error?: string;
  },
): string {
  return layout(
    b,
    'Sign in with a code',
    `${STEP_STYLE}
<h1>Sign in with a code</h1>
${alertBlock(o.error)}
<form method="post" action="${esc(o.action)}">
${hidden(o.fields)}
<label for="email">Email address</label>
<p class="note" id="email-help">We will send a one-time code to this address.</p>
<input id="email" type="email" name="email" value="${esc(o.email ?? '')}" autocomplete="email" autocapitalize="none" spellcheck="false" maxlength="254" aria-describedby="email-help" required autofocus>
<button type="submit">Send me a code</button>
</form>
<p class="links"><a href="${esc(o.loginHref)}">Other ways to sign in</a></p>`,
  );
}

/** The code from the mail; the same page whether or not the address has an account. */
export function emailCodeEntryPage(
  b: Branding,
  o: {
    action: string;
    fields: Record<string, string>;
    email: string;
    requestHref: string;
    loginHref: string;
    error?: string;
    abortAction?: string;
  },
): string {
  return layout(
    b,
    'Enter your code',
    `${STEP_STYLE}
<h1>Enter your code</h1>
${alertBlock(o.error)}
<p class="ok" role="status">If an account exists for ${esc(o.email)}, we sent a code to it. It expires in 10 minutes.</p>
<form method="post" action="${esc(o.action)}">
${hidden(o.fields)}
<label for="code">6-digit code from the email</label>
<input id="code" type="text" name="code" inputmode="numeric" pattern="[0-9 ]*" maxlength="12" autocomplete="one-time-code" required autofocus>
<button type="submit">Sign in</button>
</form>
<p class="links"><a href="${esc(o.requestHref)}">Send a new code</a><a href="${esc(o.loginHref)}">Other ways to sign in</a></p>
${cancelForm(o.abortAction, o.fields.csrf)}`,
  );
}
