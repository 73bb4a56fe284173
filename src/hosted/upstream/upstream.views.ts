/** The pages and the login-page section of upstream sign-in (issue 21). */
import { alertBlock, esc, layout, safeUrl, type Branding } from '../kit/layout.js';

/** One "Sign in with <label>" button: where it starts, what it says, its icon. */
export interface UpstreamButton {
  providerId: string;
  label: string;
  iconUrl: string | null;
  href: string;
}

const STYLE = `<style>
a.upstream{display:flex;align-items:center;justify-content:center;gap:.5rem;width:100%;padding:.65rem;margin-top:.6rem;font-size:1rem;border-radius:4px;border:1px solid #8a8f98;background:#fff;color:#1d1f23;text-decoration:none}
a.upstream:focus,a.upstream:hover{outline:3px solid var(--primary);outline-offset:2px}
a.upstream img{width:20px;height:20px}
p.or{text-align:center;color:#555;margin:1.25rem 0 .25rem}
</style>`;

/** The login page's section: one link-button per enabled provider, under the other methods. */
export function upstreamSection(buttons: UpstreamButton[]): string {
  if (!buttons.length) return '';
  const items = buttons.map((b) => {
    const icon = safeUrl(b.iconUrl);
    return `<a class="upstream" href="${esc(b.href)}" data-provider="${esc(b.providerId)}">${
      icon ? `<img src="${esc(icon)}" alt="">` : ''
    }<span>Sign in with ${esc(b.label)}</span></a>`;
  });
  return `<section class="method" aria-label="Sign in with another account">
${STYLE}
<p class="or">or</p>
${items.join('\n')}
</section>`;
}

/** A refusal or an upstream error, readable, with the way back to the sign-in. */
export function upstreamErrorPage(
  b: Branding,
  opts: { title: string; message: string; code: string; back?: { href: string; text: string } },
): string {
  return layout(
    b,
    opts.title,
    `<h1>${esc(opts.title)}</h1>
${alertBlock(opts.message)}
<p>Error code: <code>${esc(opts.code)}</code></p>
${opts.back ? `<p class="links"><a href="${esc(opts.back.href)}">${esc(opts.back.text)}</a></p>` : ''}`,
  );
}

/** The account page's "Connect <label>": one confirming post (CSRF) before leaving for the upstream. */
export function linkConfirmPage(
  b: Branding,
  opts: { label: string; action: string; csrf: string; accountHref: string },
): string {
  return layout(
    b,
    `Connect ${opts.label}`,
    `<h1>Connect ${esc(opts.label)}</h1>
<p>You will sign in with ${esc(opts.label)}; from then on you can use it to sign in here.</p>
<form method="post" action="${esc(opts.action)}">
<input type="hidden" name="csrf" value="${esc(opts.csrf)}">
<button type="submit">Continue to ${esc(opts.label)}</button>
</form>
<p class="links"><a href="${esc(opts.accountHref)}">Back to your account</a></p>`,
  );
}

/** The end of link mode: connected (or it already was). */
export function linkedPage(b: Branding, label: string, accountHref: string, already: boolean) {
  return layout(
    b,
    `${label} connected`,
    `<h1>${esc(label)} connected</h1>
<p role="status">${esc(already ? `This ${label} account was connected already.` : `You can now sign in with ${label}.`)}</p>
<p class="links"><a href="${esc(accountHref)}">Back to your account</a></p>`,
  );
}
