import type { AuditEventDto } from '../../audit/dto/audit.dto.js';
import { recoveryCodesBlock, STEP_STYLE, WEBAUTHN_SCRIPTS } from '../kit/steps.js';
import { alertBlock, esc, layout, type Branding } from '../kit/layout.js';
import type { TotpStatus } from '../../mfa/totp.service.js';
import type { PasskeyDto } from '../../passkeys/dto/passkey.dto.js';
import type { SessionView } from '../../sessions/sessions.service.js';
import type { UserEntity } from '../../users/user.entity.js';
import { connectedSection, type ConnectedView } from './account-connected.js';
import { emailSection, type EmailChangeView } from './account-email.js';

/** The account page is wider than the sign-in card and has tables. */
const ACCOUNT_STYLE = `<style>
main{max-width:46rem}
section.card{border-top:1px solid #ddd;margin-top:1.5rem;padding-top:.5rem}
h2{font-size:1.15rem;margin:.75rem 0}
table{width:100%;border-collapse:collapse;font-size:.9rem}
th,td{text-align:left;padding:.4rem .3rem;border-bottom:1px solid #eee;vertical-align:top}
td form{display:inline}
td button,.inline button{width:auto;margin:0;padding:.35rem .7rem;font-size:.85rem;white-space:nowrap}
.inline{display:flex;gap:.5rem;align-items:center}
.inline input{flex:1}
.muted{color:#555;font-size:.85rem}
.badge{background:#e8f5ec;color:#14502a;border-radius:3px;padding:0 .35rem;font-size:.8rem;white-space:nowrap}
</style>`;

export interface AccountView {
  branding: Branding;
  base: string;
  csrf: string;
  user: UserEntity;
  currentSessionId: string;
  passkeysEnabled: boolean;
  passwordEnabled: boolean;
  passkeys: PasskeyDto[];
  totp: TotpStatus;
  sessions: SessionView[];
  signIns: AuditEventDto[];
  /** The email change form, after a PIN/pattern proof when the user has one. */
  emailChange: EmailChangeView;
  /** Upstream accounts linked, and the providers the user may connect (issue 21). */
  connected: ConnectedView;
  logoutUrl: string;
  logoutFields: Record<string, string>;
  message?: string;
  error?: string;
  /** Shown once, after TOTP setup or regeneration. */
  recoveryCodes?: string[];
  /** A TOTP setup in progress. */
  enrolment?: { secret: string; uri: string; qr: string };
  /** A device link just made: shown once, with its QR code (an inline SVG). */
  deviceLink?: { url: string; expiresAt: string; qr: string };
}

function csrfField(csrf: string) {
  return `<input type="hidden" name="csrf" value="${esc(csrf)}">`;
}

function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  return `<time datetime="${esc(iso)}">${esc(iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}</time>`;
}

/** A short device description from a user agent: browser and platform, or the raw string. */
export function deviceOf(ua: string | null): string {
  if (!ua) return 'Unknown device';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrome\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : null;
  const os = /Windows/.test(ua)
    ? 'Windows'
    : /Android/.test(ua)
      ? 'Android'
      : /iPhone|iPad/.test(ua)
        ? 'iOS'
        : /Mac OS X/.test(ua)
          ? 'macOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : null;
  return browser || os ? [browser, os].filter(Boolean).join(' on ') : ua.slice(0, 60);
}

function profileSection(v: AccountView): string {
  const u = v.user;
  return `<section class="card" aria-labelledby="profile-h">
<h2 id="profile-h">Profile</h2>
<p class="muted">Username: <strong>${esc(u.username)}</strong>${u.email ? ` · Email: <strong>${esc(u.email)}</strong>${u.is_verified ? ' <span class="badge">verified</span>' : ''}` : ''}</p>
<form method="post" action="${esc(v.base)}/profile">
${csrfField(v.csrf)}
<label for="display_name">Display name</label>
<input id="display_name" type="text" name="display_name" value="${esc(u.display_name ?? '')}" maxlength="200" autocomplete="name">
<label for="locale">Language</label>
<input id="locale" type="text" name="locale" value="${esc(u.locale ?? '')}" maxlength="35" placeholder="en, pt-BR…" autocomplete="language">
<button type="submit">Save profile</button>
</form>
</section>`;
}

function passwordSection(v: AccountView): string {
  if (!v.passwordEnabled) return '';
  return `<section class="card" aria-labelledby="password-h">
<h2 id="password-h">Password</h2>
<form method="post" action="${esc(v.base)}/password">
${csrfField(v.csrf)}
<input type="text" name="username" value="${esc(v.user.username)}" autocomplete="username" hidden>
<label for="current_password">Current password</label>
<input id="current_password" type="password" name="current_password" autocomplete="current-password" required>
<label for="new_password">New password</label>
<input id="new_password" type="password" name="new_password" autocomplete="new-password" required>
<label for="new_password2">Repeat the new password</label>
<input id="new_password2" type="password" name="new_password2" autocomplete="new-password" required>
<p class="muted">Changing the password signs you out everywhere, this browser too.</p>
<button type="submit">Change password</button>
</form>
</section>`;
}

function passkeysSection(v: AccountView): string {
  if (!v.passkeysEnabled) return '';
  const rows = v.passkeys
    .map(
      (p) => `<tr>
<td><form method="post" action="${esc(v.base)}/passkeys/${esc(p.passkey_id)}/rename" class="inline">${csrfField(v.csrf)}
<label for="pk-${esc(p.passkey_id)}" class="sr-only">Name of the passkey</label>
<input id="pk-${esc(p.passkey_id)}" type="text" name="name" value="${esc(p.name)}" maxlength="100" required>
<button type="submit" class="secondary">Rename</button></form></td>
<td>${when(p.created_at)}</td><td>${when(p.last_used_at)}</td>
<td><form method="post" action="${esc(v.base)}/passkeys/${esc(p.passkey_id)}/delete">${csrfField(v.csrf)}
<button type="submit" class="secondary" aria-label="Delete passkey ${esc(p.name)}">Delete</button></form></td>
</tr>`,
    )
    .join('');
  return `<section class="card" aria-labelledby="passkeys-h">
<h2 id="passkeys-h">Passkeys</h2>
${v.passkeys.length ? `<table><thead><tr><th scope="col">Name</th><th scope="col">Added</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead><tbody>${rows}</tbody></table>` : '<p>You have no passkeys yet.</p>'}
<form method="post" action="${esc(v.base)}/passkeys/register" data-passkey-register data-options="${esc(v.base)}/passkeys/options">
${csrfField(v.csrf)}
<input type="hidden" name="challenge_id" value="">
<input type="hidden" name="response" value="">
<p class="alert" role="alert" data-passkey-error hidden></p>
<noscript><p class="muted">Adding a passkey needs JavaScript.</p></noscript>
<button type="button" data-passkey-start hidden>Add a passkey</button>
</form>
${deviceLinkBlock(v)}
</section>`;
}

/** "Add another device": a single-use link (and its QR code) to open on the new device. */
function deviceLinkBlock(v: AccountView): string {
  const shown = v.deviceLink
    ? `<div class="device-link" data-device-link>
<p>Open this link on the new device, or scan the code. It works once, until ${when(v.deviceLink.expiresAt)}.</p>
<div class="qr">${v.deviceLink.qr}</div>
<p><input type="text" readonly value="${esc(v.deviceLink.url)}" aria-label="Device link" data-device-link-url></p>
</div>`
    : '';
  return `<h3>Add another device</h3>
<p class="muted">Make a one-time link that adds a passkey on another phone or computer, without a password.</p>
${shown}
<form method="post" action="${esc(v.base)}/device-links">${csrfField(v.csrf)}
<button type="submit" class="secondary">Make a device link</button></form>`;
}

function totpSection(v: AccountView): string {
  const t = v.totp;
  let body: string;
  if (v.enrolment) {
    body = `<p>Scan this QR code with an authenticator app, or type the key by hand, then enter the code it shows.</p>
<img class="qr" src="${esc(v.enrolment.qr)}" alt="QR code of the key below">
<p class="secret" id="totp-secret">${esc(v.enrolment.secret)}</p>
<p class="muted"><a href="${esc(v.enrolment.uri)}">Open in an authenticator app on this device</a></p>
<form method="post" action="${esc(v.base)}/totp/confirm">${csrfField(v.csrf)}
<label for="totp-confirm">Code shown by the app</label>
<input id="totp-confirm" type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit">Turn on two-step verification</button></form>`;
  } else if (t.enabled) {
    body = `<p>Two-step verification is <strong>on</strong> since ${when(t.enabled_at)}. Recovery codes left: <strong>${t.recovery_codes_left}</strong>.</p>
<form method="post" action="${esc(v.base)}/recovery-codes">${csrfField(v.csrf)}
<label for="regen-code">New recovery codes: enter a current code from your app</label>
<input id="regen-code" type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit" class="secondary">Make new recovery codes</button></form>
<form method="post" action="${esc(v.base)}/totp/disable">${csrfField(v.csrf)}
<label for="disable-code">Turn off: enter a code from your app or a recovery code</label>
<input id="disable-code" type="text" name="code" autocomplete="one-time-code" required>
<button type="submit" class="secondary">Turn off two-step verification</button></form>`;
  } else {
    body = `<p>Two-step verification is <strong>off</strong>. With it on, signing in with a password also asks for a code from an authenticator app.</p>
<form method="post" action="${esc(v.base)}/totp/enrol">${csrfField(v.csrf)}
<button type="submit">Set up two-step verification</button></form>`;
  }
  return `<section class="card" aria-labelledby="totp-h">
<h2 id="totp-h">Two-step verification</h2>
${v.recoveryCodes ? recoveryCodesBlock(v.recoveryCodes) : ''}
${body}
</section>`;
}

function sessionsSection(v: AccountView): string {
  const rows = v.sessions
    .map((s) => {
      const current = s.session_id === v.currentSessionId;
      return `<tr>
<td>${esc(deviceOf(s.user_agent))}${current ? ' <span class="badge">this browser</span>' : ''}</td>
<td>${esc(s.ip ?? '—')}</td><td>${when(s.created_at)}</td><td>${when(s.last_seen_at)}</td>
<td><form method="post" action="${esc(v.base)}/sessions/${esc(s.session_id)}/revoke">${csrfField(v.csrf)}
<button type="submit" class="secondary">${current ? 'Sign out' : 'Revoke'}</button></form></td>
</tr>`;
    })
    .join('');
  return `<section class="card" aria-labelledby="sessions-h">
<h2 id="sessions-h">Where you are signed in</h2>
<table><thead><tr><th scope="col">Device</th><th scope="col">IP address</th><th scope="col">Signed in</th><th scope="col">Last seen</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead><tbody>${rows}</tbody></table>
<form method="post" action="${esc(v.base)}/sessions/revoke-all">${csrfField(v.csrf)}
<button type="submit" class="secondary">Sign out everywhere</button></form>
</section>`;
}

function signInsSection(v: AccountView): string {
  const rows = v.signIns
    .map(
      (
        e,
      ) => `<tr><td>${when(e.occurred_at)}</td><td>${e.outcome === 'success' ? 'Signed in' : 'Failed attempt'}</td>
<td>${esc(e.method ?? '—')}</td><td>${esc(e.ip ?? '—')}</td><td>${esc(deviceOf(e.user_agent))}</td></tr>`,
    )
    .join('');
  return `<section class="card" aria-labelledby="signins-h">
<h2 id="signins-h">Recent sign-ins</h2>
${v.signIns.length ? `<table><thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Method</th><th scope="col">IP address</th><th scope="col">Device</th></tr></thead><tbody>${rows}</tbody></table>` : '<p>No sign-ins recorded yet.</p>'}
</section>`;
}

export function accountPage(v: AccountView): string {
  const name = v.user.display_name || v.user.username;
  return layout(
    v.branding,
    'Your account',
    `${STEP_STYLE}
${ACCOUNT_STYLE}
<h1>Your account</h1>
<p style="text-align:center">Signed in as <strong>${esc(name)}</strong></p>
${v.message ? `<p class="ok" role="status">${esc(v.message)}</p>` : ''}
${alertBlock(v.error)}
${profileSection(v)}
${emailSection({ base: v.base, csrf: v.csrf, email: v.user.email }, v.emailChange)}
${passwordSection(v)}
${passkeysSection(v)}
${connectedSection(v)}
${totpSection(v)}
${sessionsSection(v)}
${signInsSection(v)}
<section class="card" aria-labelledby="signout-h">
<h2 id="signout-h">Sign out</h2>
<form method="get" action="${esc(v.logoutUrl)}">
${Object.entries(v.logoutFields)
  .map(([k, x]) => `<input type="hidden" name="${esc(k)}" value="${esc(x)}">`)
  .join('')}
<button type="submit" class="secondary">Sign out of ${esc(v.branding.displayName)}</button>
</form>
</section>
${v.passkeysEnabled ? WEBAUTHN_SCRIPTS : ''}`,
    v.user.locale?.split('-')[0] || 'en',
  );
}
