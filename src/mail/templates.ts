import { escapeHtml } from '../common/html.js';
import type { MailMessage } from './mail.service.js';

export type Template = Omit<MailMessage, 'to'>;

/** Header lines must stay one line: a tenant name cannot inject headers. */
function oneLine(value: string): string {
  return value.replace(/[\r\n\t]+/g, ' ').trim();
}

function layout(tenant: string, paragraphs: string[], action?: { label: string; url: string }) {
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  const button = action
    ? `<p><a href="${escapeHtml(action.url)}" style="display:inline-block;padding:10px 16px;background:#1f4fd1;color:#fff;text-decoration:none;border-radius:4px">${escapeHtml(action.label)}</a></p>\n<p style="font-size:12px;color:#555">${escapeHtml(action.url)}</p>`
    : '';
  return `<!doctype html>
<html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#222">
<h2>${escapeHtml(tenant)}</h2>
${body}
${button}
</body></html>`;
}

function text(tenant: string, paragraphs: string[], url?: string): string {
  return [tenant, '', ...paragraphs, ...(url ? ['', url] : []), ''].join('\n');
}

export function verifyEmailMail(tenant: string, url: string, hours: number): Template {
  const name = oneLine(tenant);
  const lines = [
    'Please confirm your email address by opening the link below.',
    `The link works once and expires in ${hours} hours. If you did not expect this message, ignore it.`,
  ];
  return {
    fromName: name,
    subject: `${name}: confirm your email address`,
    text: text(name, lines, url),
    html: layout(name, lines, { label: 'Confirm email address', url }),
  };
}

/**
 * `passkeys` names the account's passkeys: each signs in without the password, so a reset after
 * a compromise is not over until the user has checked them.
 */
export function passwordResetMail(
  tenant: string,
  url: string,
  minutes: number,
  passkeys: string[] = [],
): Template {
  const name = oneLine(tenant);
  const lines = [
    'Someone asked to reset the password of your account. Open the link below to choose a new one.',
    `The link works once and expires in ${minutes} minutes. If it was not you, ignore this message: your password stays as it is.`,
    'A new password signs you out everywhere: every session and app access of the account ends.',
    passkeys.length
      ? `Passkeys on this account (each signs in without a password): ${passkeys.map(oneLine).join(', ')}. Remove any you do not recognise from your account page.`
      : 'This account has no passkeys.',
  ];
  return {
    fromName: name,
    subject: `${name}: reset your password`,
    text: text(name, lines, url),
    html: layout(name, lines, { label: 'Choose a new password', url }),
  };
}

/** Sent when a way to sign in is added, so an intruder's addition does not go unnoticed. */
export function credentialAddedMail(
  tenant: string,
  credential: { kind: 'passkey' | 'totp'; name?: string },
): Template {
  const name = oneLine(tenant);
  const what =
    credential.kind === 'passkey'
      ? `A passkey${credential.name ? ` ("${oneLine(credential.name)}")` : ''} was added to your account.`
      : 'Two-step verification with an authenticator app was turned on for your account.';
  const lines = [
    what,
    'If this was not you, sign in, remove it from your account page, change your password and contact your administrator.',
  ];
  return {
    fromName: name,
    subject: `${name}: a sign-in method was added to your account`,
    text: text(name, lines),
    html: layout(name, lines),
  };
}

export function emailChangeMail(tenant: string, url: string, hours: number): Template {
  const name = oneLine(tenant);
  const lines = [
    'Someone asked to use this address for their account. Open the link below to confirm it.',
    `The link works once and expires in ${hours} hours. If it was not you, ignore this message.`,
  ];
  return {
    fromName: name,
    subject: `${name}: confirm your new email address`,
    text: text(name, lines, url),
    html: layout(name, lines, { label: 'Confirm new address', url }),
  };
}

/** Sent instead of a confirmation when the address already belongs to another account. */
export function emailInUseMail(tenant: string): Template {
  const name = oneLine(tenant);
  const lines = [
    'Someone asked to move another account to this email address, but this address already has an account here, so nothing was changed.',
    'If it was you, sign in with this address instead. Otherwise ignore this message.',
  ];
  return {
    fromName: name,
    subject: `${name}: this address already has an account`,
    text: text(name, lines),
    html: layout(name, lines),
  };
}

export function emailChangedMail(tenant: string, newEmail: string): Template {
  const name = oneLine(tenant);
  const lines = [
    `The email address of your account was changed to ${newEmail}.`,
    'If you did not do this, contact your administrator at once.',
  ];
  return {
    fromName: name,
    subject: `${name}: your email address was changed`,
    text: text(name, lines),
    html: layout(name, lines),
  };
}

export function loginCodeMail(tenant: string, code: string, minutes: number): Template {
  const name = oneLine(tenant);
  const lines = [
    `Your sign-in code is ${code}.`,
    `It works once and expires in ${minutes} minutes. If you did not try to sign in, ignore this message.`,
  ];
  return {
    fromName: name,
    subject: `${name}: your sign-in code`,
    text: text(name, lines),
    html: layout(name, lines),
  };
}

/** A link to set a new PIN/pattern: the user's own reset, or an enrolment link from an admin. */
export function pinPatternLinkMail(
  tenant: string,
  url: string,
  o: { minutes: number; byAdmin: boolean; words: string },
): Template {
  const name = oneLine(tenant);
  const expiry = o.minutes >= 120 ? `${Math.round(o.minutes / 60)} hours` : `${o.minutes} minutes`;
  const lines = o.byAdmin
    ? [
        `An administrator sent you a link to set the ${o.words} you sign in with. Open it to choose one.`,
        `The link works once and expires in ${expiry}. If you did not expect it, ignore this message.`,
      ]
    : [
        `Someone asked to reset the ${o.words} of your account. Open the link below to choose a new one.`,
        `The link works once and expires in ${expiry}. If it was not you, ignore this message: your ${o.words} stays as it is.`,
      ];
  return {
    fromName: name,
    subject: o.byAdmin ? `${name}: set your ${o.words}` : `${name}: reset your ${o.words}`,
    text: text(name, lines, url),
    html: layout(name, lines, { label: `Choose a ${o.words}`, url }),
  };
}
