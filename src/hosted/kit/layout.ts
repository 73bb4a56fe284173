/**
 * The kit every hosted page is drawn with: the layout (branding, styles), the escaper, the
 * page CSPs, and the small blocks several areas share. Plain HTML forms that work without
 * JavaScript; every value that reaches a page goes through `esc` (text and attributes alike).
 */

export type { Branding } from '../../tenants/branding.js';
export type { ClientDisplay } from '../../oidc/provider-pages.port.js';
import { escapeHtml } from '../../common/html.js';
import { DEFAULT_PRIMARY_COLOR } from './branding.js';
import type { Branding } from '../../tenants/branding.js';
import type { ClientDisplay } from '../../oidc/provider-pages.port.js';

/** Pages send no script and load nothing but images; they may not be framed. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; base-uri 'none'; frame-ancestors 'none'";

/**
 * Pages with a WebAuthn ceremony: scripts from this origin only (the @simplewebauthn/browser
 * bundle and our own small file, never inline), which may call back to this origin.
 */
export const PAGE_CSP_SCRIPTS =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' https: data:; base-uri 'none'; frame-ancestors 'none'";

/** The PIN/pattern sign-in: the same, plus compiling the OPAQUE client's WebAssembly. */
export const PAGE_CSP_WASM = PAGE_CSP_SCRIPTS.replace(
  "script-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
);

/** The app's one escaper (src/common/html.ts), under the short name the page templates use. */
export const esc = escapeHtml;

/** Only http(s) URLs become links or images: never `javascript:` or `data:` from metadata. */
export function safeUrl(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

function color(value: string | null): string {
  return value && /^#[0-9a-fA-F]{3,8}$/.test(value) ? value : DEFAULT_PRIMARY_COLOR;
}

export function layout(b: Branding, title: string, body: string, lang = 'en'): string {
  const logo = safeUrl(b.logoUrl);
  return `<!DOCTYPE html>
<html lang="${esc(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="/favicon.ico">
<title>${esc(title)} · ${esc(b.displayName)}</title>
<style>
:root{--primary:${color(b.primaryColor)}}
*{box-sizing:border-box}
[hidden]{display:none!important}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d1f23;margin:0;padding:2rem 1rem}
main{max-width:26rem;margin:0 auto;background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.15);padding:2rem}
header{text-align:center;margin-bottom:1rem}
header img{max-height:48px;max-width:100%}
.tenant{color:#555;margin:.25rem 0 0}
h1{font-size:1.4rem;margin:.5rem 0 1rem;text-align:center}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password],input[type=email]{width:100%;padding:.6rem;font-size:1rem;border:1px solid #8a8f98;border-radius:4px}
input:focus,button:focus{outline:3px solid var(--primary);outline-offset:2px}
button{width:100%;padding:.7rem;margin-top:1rem;font-size:1rem;border-radius:4px;border:1px solid var(--primary);background:var(--primary);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:var(--primary)}
.alert{border:1px solid #b3261e;background:#fdecea;color:#7a1a14;padding:.75rem;border-radius:4px}
.client{text-align:center;color:#333}
.client img{max-height:40px;display:block;margin:0 auto .5rem}
ul.scopes{padding-left:1.2rem}
.links{font-size:.85rem;text-align:center;margin-top:1rem}
.links a{color:var(--primary);margin:0 .5rem}
code.user-code{font-size:1.6rem;letter-spacing:.15em;display:block;text-align:center;margin:1rem 0}
.method+.method{border-top:1px solid #ddd;margin-top:1.5rem;padding-top:1rem}
</style>
</head>
<body>
<main>
<header>
${logo ? `<img src="${esc(logo)}" alt="">` : ''}
<p class="tenant">${esc(b.displayName)}</p>
</header>
${body}
</main>
</body>
</html>`;
}

export function clientBlock(c: ClientDisplay | undefined): string {
  if (!c) return '';
  const logo = safeUrl(c.logoUri);
  return `<div class="client">${logo ? `<img src="${esc(logo)}" alt="">` : ''}<p>to continue to <strong>${esc(c.name)}</strong></p></div>`;
}

export function clientLinks(c: ClientDisplay | undefined): string {
  if (!c) return '';
  const links = [
    safeUrl(c.policyUri) ? `<a href="${esc(safeUrl(c.policyUri))}">Privacy policy</a>` : '',
    safeUrl(c.tosUri) ? `<a href="${esc(safeUrl(c.tosUri))}">Terms of service</a>` : '',
  ].filter(Boolean);
  return links.length ? `<p class="links">${links.join('')}</p>` : '';
}

export function alertBlock(message: string | undefined): string {
  return message ? `<p class="alert" role="alert">${esc(message)}</p>` : '';
}

export function errorPage(b: Branding, error: string, description?: string): string {
  return layout(
    b,
    'Sign-in error',
    `<h1>Something went wrong</h1>
<p class="alert" role="alert">${esc(description ?? 'The request could not be completed.')}</p>
<p>Error code: <code>${esc(error)}</code></p>
<p>Go back to the application and try again.</p>`,
  );
}

export function messagePage(b: Branding, title: string, message: string): string {
  return layout(b, title, `<h1>${esc(title)}</h1>\n<p>${esc(message)}</p>`);
}
