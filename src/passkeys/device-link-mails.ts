import { escapeHtml } from '../common/html.js';
import type { MailMessage } from '../mail/mail.service.js';

type Template = Omit<MailMessage, 'to'>;

const oneLine = (v: string) => v.replace(/[\r\n\t]+/g, ' ').trim();

function mail(tenant: string, subject: string, lines: string[]): Template {
  const name = oneLine(tenant);
  return {
    fromName: name,
    subject: `${name}: ${subject}`,
    text: [name, '', ...lines, ''].join('\n'),
    html: `<!doctype html>
<html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#222">
<h2>${escapeHtml(name)}</h2>
${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('\n')}
</body></html>`,
  };
}

/**
 * The notice that a device link was made. It carries no link: the link goes to whoever made it
 * (the user on their account page, or an admin), and the mail only tells the user it exists.
 */
export function deviceLinkCreatedMail(
  tenant: string,
  o: { byAdmin: boolean; expiresAt: Date },
): Template {
  return mail(tenant, 'a link to add a device was created', [
    o.byAdmin
      ? 'An administrator created a link that lets a new device add a passkey to your account.'
      : 'A link was created on your account page that lets a new device add a passkey to your account.',
    `It works once, until ${o.expiresAt.toISOString().replace('T', ' ').slice(0, 16)} UTC.`,
    'If this was not you or you did not ask for it, tell your administrator: they can revoke the link.',
  ]);
}
