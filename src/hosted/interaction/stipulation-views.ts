/**
 * Pages of the tenant's stipulations (rules a user meets before sign-in completes): terms,
 * email verification, a new password after an admin set one. Plain forms, no JavaScript.
 */
import { alertBlock, esc, layout, safeUrl, type Branding } from '../kit/layout.js';
import { STEP_STYLE, WEBAUTHN_SCRIPTS } from '../kit/steps.js';

interface StepForm {
  action: string;
  fields: Record<string, string>;
  abortAction: string;
  error?: string;
  notice?: string;
}

function hidden(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('\n');
}

function cancel(o: StepForm): string {
  return `<form method="post" action="${esc(o.abortAction)}">
<input type="hidden" name="csrf" value="${esc(o.fields.csrf ?? '')}">
<button type="submit" class="secondary">Cancel</button>
</form>`;
}

function notice(message: string | undefined): string {
  return message ? `<p class="ok" role="status">${esc(message)}</p>` : '';
}

export function termsPage(
  b: Branding,
  o: StepForm & { termsUrl: string | null | undefined; version: string; renewed: boolean },
): string {
  const url = safeUrl(o.termsUrl);
  const link = url
    ? `<p><a href="${esc(url)}" target="_blank" rel="noopener noreferrer">Read the terms (version ${esc(o.version)})</a></p>`
    : `<p class="note">Terms version ${esc(o.version)}.</p>`;
  const intro = o.renewed
    ? `${esc(b.displayName)} has updated its terms since you last accepted them. Accept the new version to continue.`
    : `Before you continue, accept the terms of ${esc(b.displayName)}.`;
  return layout(
    b,
    'Accept the terms',
    `${STEP_STYLE}
<h1>Accept the terms</h1>
${alertBlock(o.error)}
<p>${intro}</p>
${link}
<form method="post" action="${esc(o.action)}">
${hidden(o.fields)}
<label><input type="checkbox" name="accept" value="yes" required> I have read and accept the terms</label>
<button type="submit">Accept and continue</button>
</form>
${cancel(o)}`,
  );
}

export function verifyEmailPage(
  b: Branding,
  o: StepForm & { email: string | null; resendAction: string },
): string {
  const body = o.email
    ? `<p>${esc(b.displayName)} asks you to confirm your email address before you sign in. Open the link we mailed to <strong>${esc(o.email)}</strong>, then continue here.</p>
<form method="post" action="${esc(o.action)}">
${hidden(o.fields)}
<button type="submit">I have verified my address — continue</button>
</form>
<form method="post" action="${esc(o.resendAction)}">
${hidden(o.fields)}
<button type="submit" class="secondary">Send the mail again</button>
</form>`
    : `<p>${esc(b.displayName)} asks for a verified email address before you sign in, and your account has none. Ask your administrator to add one.</p>`;
  return layout(
    b,
    'Verify your email address',
    `${STEP_STYLE}
<h1>Verify your email address</h1>
${alertBlock(o.error)}
${notice(o.notice)}
${body}
${cancel(o)}`,
  );
}

export function newPasswordPage(b: Branding, o: StepForm & { minLength: number }): string {
  return layout(
    b,
    'Choose a new password',
    `${STEP_STYLE}
<h1>Choose a new password</h1>
${alertBlock(o.error)}
<p>Your password was set by an administrator. Choose a password of your own to continue.</p>
<form method="post" action="${esc(o.action)}">
${hidden(o.fields)}
<label for="new_password">New password</label>
<input id="new_password" type="password" name="new_password" autocomplete="new-password" minlength="${o.minLength}" required autofocus>
<label for="confirm_password">Repeat the new password</label>
<input id="confirm_password" type="password" name="confirm_password" autocomplete="new-password" minlength="${o.minLength}" required>
<button type="submit">Save and continue</button>
</form>
${cancel(o)}`,
  );
}

/** The passkey stipulation: register one (the page script runs the ceremony), no skipping. */
export function passkeyPage(b: Branding, o: StepForm & { optionsAction: string }): string {
  return layout(
    b,
    'Add a passkey',
    `${STEP_STYLE}
<h1>Add a passkey</h1>
${alertBlock(o.error)}
<p>${esc(b.displayName)} asks you to add a passkey before you continue: you will sign in with your fingerprint, face or device PIN.</p>
<form method="post" action="${esc(o.action)}" data-passkey-register data-options="${esc(o.optionsAction)}">
${hidden(o.fields)}
<input type="hidden" name="challenge_id" value="">
<input type="hidden" name="response" value="">
<p class="alert" role="alert" data-passkey-error hidden></p>
<button type="button" data-passkey-start hidden>Add a passkey</button>
</form>
${cancel(o)}
${WEBAUTHN_SCRIPTS}`,
  );
}
