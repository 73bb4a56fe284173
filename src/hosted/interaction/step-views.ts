/**
 * Pages of the steps around the login form: second factor, enrolment at sign-in, sign-up,
 * email code. Plain forms; only the passkey parts need JavaScript (idp-webauthn.js).
 */
import { alertBlock, esc, layout, type Branding } from '../kit/layout.js';
import { recoveryCodesBlock, STEP_STYLE, WEBAUTHN_SCRIPTS } from '../kit/steps.js';

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
    /** Passkey-only tenant: no password field; a passkey is registered next. */
    passwordless?: boolean;
    /** The tenant's has_username_and_email: false asks for the email alone (it is the username). */
    usernameAndEmail: boolean;
  },
): string {
  const username = o.usernameAndEmail
    ? `<label for="username">Username</label>
<input id="username" type="text" name="username" value="${esc(o.values?.username ?? '')}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
`
    : '';
  return layout(
    b,
    'Create an account',
    `${STEP_STYLE}
<h1>Create an account</h1>
${alertBlock(o.error)}
<form method="post" action="${esc(o.action)}">
${hidden(o.fields)}
${username}<label for="email">Email</label>
<input id="email" type="email" name="email" value="${esc(o.values?.email ?? '')}" autocomplete="${o.usernameAndEmail ? 'email' : 'username'}" required${o.usernameAndEmail ? '' : ' autofocus'}>
${
  o.passwordless
    ? '<p class="note">Next, you add a passkey: your fingerprint, face or device PIN signs you in, no password.</p>'
    : `<label for="password">Password</label>
<p class="note" id="password-help">At least ${o.minLength} characters.</p>
<input id="password" type="password" name="password" autocomplete="new-password" minlength="${o.minLength}" aria-describedby="password-help" required>`
}
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
    /** Absent for a passkey-only sign-up: the passkey is not optional there. */
    continueAction?: string;
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
${
  o.continueAction
    ? `<form method="post" action="${esc(o.continueAction)}">
${hidden(o.fields)}
<button type="submit" class="secondary">Not now, continue</button>
</form>`
    : '<p class="note">Your account needs a passkey to sign in: add one to finish.</p>'
}
${WEBAUTHN_SCRIPTS}`,
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
