import { alertBlock, esc, layout, type Branding } from '../kit/layout.js';
import { WEBAUTHN_SCRIPTS } from '../kit/steps.js';
import type { PinPatternPolicy } from '../../pin-pattern/pin-pattern-policy.js';
import { PIN_PATTERN_SCRIPTS } from '../assets/pin-pattern-script.js';
import {
  factorWords,
  PIN_PATTERN_STYLE,
  pinPatternData,
  pinPatternFields,
} from '../interaction/pin-pattern-view.js';

/** The seed's "Microsoft-Mfa-Form": the second factor for a sign-in Entra ID started. */
export function eamForm(
  b: Branding,
  o: {
    action: string;
    username: string;
    methods: string[];
    /** The tenant's policy and the OPAQUE routes (bound to this flow) when PIN/pattern is offered. */
    pinPattern?: { policy: PinPatternPolicy; challenge: string; authenticate: string };
    error?: string;
  },
): string {
  // The sign-in page's keypad, grid and script (src/hosted/assets/pin-pattern-script.ts): it runs
  // the OPAQUE exchange for the (fixed, hidden) login and posts the nonce here.
  const pp = o.pinPattern;
  const pinPattern = pp
    ? `${PIN_PATTERN_STYLE}<section class="method pp" aria-label="Verify with your ${factorWords(pp.policy)}" data-pin-pattern-section hidden>
<form method="post" action="${esc(o.action)}" data-pin-pattern ${pinPatternData(pp.policy, { challenge: pp.challenge, authenticate: pp.authenticate })}>
<input type="hidden" name="method" value="pin_pattern">
<input type="hidden" name="login" value="${esc(o.username)}">
<input type="hidden" name="oid_nonce" value="">
${pinPatternFields(pp.policy)}
<p class="alert" role="alert" data-pp-error hidden></p>
<button type="submit" data-pp-submit>Verify with your ${factorWords(pp.policy)}</button>
</form>
</section>
${PIN_PATTERN_SCRIPTS}`
    : '';
  const passkey = o.methods.includes('passkey')
    ? `<section class="method" aria-label="Verify with a passkey" data-passkey-section hidden>
<form method="post" action="${esc(o.action)}" data-passkey-login data-options="${esc(o.action)}/passkey-options">
<input type="hidden" name="method" value="passkey">
<input type="hidden" name="challenge_id" value="">
<input type="hidden" name="response" value="">
<p class="alert" role="alert" data-passkey-error hidden></p>
<button type="button" data-passkey-start hidden>Use a passkey</button>
</form>
</section>
${WEBAUTHN_SCRIPTS}`
    : '';
  const totp = o.methods.includes('totp')
    ? `<form method="post" action="${esc(o.action)}">
<input type="hidden" name="method" value="totp">
<label for="code">Code from your authenticator app</label>
<input id="code" type="text" name="code" inputmode="numeric" pattern="[0-9 ]*" maxlength="12" autocomplete="one-time-code" required autofocus>
<button type="submit">Verify</button>
</form>`
    : '';
  return layout(
    b,
    'Verify it is you',
    `<h1>Verify it is you</h1>
<p>Your organisation's Microsoft sign-in asks for a second step for <strong>${esc(o.username)}</strong>.</p>
${alertBlock(o.error)}
${passkey}
${pinPattern}
${totp}`,
  );
}

/**
 * Back to Entra: a form POST (response_mode=form_post) of the ID token and state. The strict CSP
 * allows no script, so the user presses the button; `form-action` names only that origin.
 */
export function formPost(b: Branding, redirectUri: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('\n');
  return layout(
    b,
    'Verified',
    `<h1>Verified</h1>
<p>Return to Microsoft to finish signing in.</p>
<form method="post" action="${esc(redirectUri)}">
${inputs}
<button type="submit">Continue</button>
</form>`,
  );
}
