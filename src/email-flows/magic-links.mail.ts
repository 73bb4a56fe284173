import type { Template } from '../mail/templates.js';
import { escapeHtml } from '../common/html.js';

/** The mail of a sign-in link (MagicLinksService). */
export function magicLinkMail(tenant: string, url: string, minutes: number): Template {
  const name = tenant.replace(/[\r\n\t]+/g, ' ').trim();
  const lines = [
    'Open the link below to sign in.',
    `It works once, in the browser where you asked for it, and expires in ${minutes} minutes. If you did not try to sign in, ignore this message.`,
  ];
  return {
    fromName: name,
    subject: `${name}: your sign-in link`,
    text: [name, '', ...lines, '', url, ''].join('\n'),
    html: `<!doctype html>
<html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#222">
<h2>${escapeHtml(name)}</h2>
${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('\n')}
<p><a href="${escapeHtml(url)}" style="display:inline-block;padding:10px 16px;background:#1f4fd1;color:#fff;text-decoration:none;border-radius:4px">Sign in</a></p>
<p style="font-size:12px;color:#555">${escapeHtml(url)}</p>
</body></html>`,
  };
}
