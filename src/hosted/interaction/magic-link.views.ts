/** Pages of the sign-in link method (MagicLinkStep). Plain forms, no scripts. */
import { alertBlock, esc, layout, type Branding } from '../kit/layout.js';
import { STEP_STYLE } from '../kit/steps.js';

function hidden(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('\n');
}

const CODE_STYLE = `<style>.bigcode{font-family:ui-monospace,monospace;font-size:2rem;letter-spacing:.3rem;text-align:center;background:#f4f5f7;padding:.75rem;border-radius:4px}</style>`;

/** Asks for the address the link goes to. */
export function magicLinkRequestPage(
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
    'Sign in with a link',
    `${STEP_STYLE}
<h1>Sign in with a link</h1>
${alertBlock(o.error)}
<form method="post" action="${esc(o.action)}">
${hidden(o.fields)}
<label for="email">Email address</label>
<p class="note" id="email-help">We will send a one-time sign-in link to this address. Open it in this browser.</p>
<input id="email" type="email" name="email" value="${esc(o.email ?? '')}" autocomplete="email" autocapitalize="none" spellcheck="false" maxlength="254" aria-describedby="email-help" required autofocus>
<button type="submit">Email me a sign-in link</button>
</form>
<p class="links"><a href="${esc(o.loginHref)}">Other ways to sign in</a></p>`,
  );
}

/**
 * After the request: the same page whether or not the address has an account. It also takes
 * the code that the link shows when it is opened in another browser.
 */
export function magicLinkSentPage(
  b: Branding,
  o: {
    action: string;
    fields: Record<string, string>;
    email: string;
    requestHref: string;
    loginHref: string;
    error?: string;
  },
): string {
  return layout(
    b,
    'Check your email',
    `${STEP_STYLE}
<h1>Check your email</h1>
${alertBlock(o.error)}
<p class="ok" role="status">If an account exists for ${esc(o.email)}, we sent a sign-in link to it. It works once and expires in 10 minutes.</p>
<p>Open the link in this browser to sign in. If you open it on another device or browser, it shows a 6-digit code: type that code here.</p>
<form method="post" action="${esc(o.action)}">
${hidden(o.fields)}
<label for="code">Code shown by the link</label>
<input id="code" type="text" name="code" inputmode="numeric" pattern="[0-9 -]*" maxlength="12" autocomplete="one-time-code" required>
<button type="submit">Sign in</button>
</form>
<p class="links"><a href="${esc(o.requestHref)}">Send a new link</a><a href="${esc(o.loginHref)}">Other ways to sign in</a></p>`,
  );
}

/** The link, opened in the browser that asked: one button, so a mail scanner's GET spends nothing. */
export function magicLinkConfirmPage(
  b: Branding,
  o: { action: string; fields: Record<string, string> },
): string {
  return layout(
    b,
    'Sign in',
    `${STEP_STYLE}
<h1>Sign in</h1>
<p>Continue signing in with the link from your email.</p>
<form method="post" action="${esc(o.action)}">
${hidden(o.fields)}
<button type="submit" autofocus>Continue</button>
</form>`,
  );
}

/** The link, opened in a browser that did not ask for it: the code to type in the one that did. */
export function magicLinkCodePage(b: Branding, code: string): string {
  return layout(
    b,
    'Sign-in code',
    `${STEP_STYLE}${CODE_STYLE}
<h1>Finish on your other device</h1>
<p>This link was asked for in another browser. To sign in there, type this code on its &ldquo;Check your email&rdquo; page:</p>
<p class="bigcode" aria-label="Sign-in code">${esc(`${code.slice(0, 3)} ${code.slice(3)}`)}</p>
<p class="note">Never tell this code to anyone. If you did not ask to sign in, close this page: nothing happens without the code.</p>`,
  );
}
