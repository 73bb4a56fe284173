/**
 * What each mailed link does, as data for the one email-link flow (email-link.flow.ts): where
 * it lands, its texts, the form on its landing page, what spends it, and how the flows'
 * refusals read on the page. URLs: /<tenant>/<area>/<path>?token=…
 */
import type { TenantKeyPurpose } from '../../../libs/crypto/index.js';
import type { AuditContext } from '../../audit/audit.service.js';
import type { DomainError } from '../../common/domain-error.js';
import type { EmailFlowsService } from '../../email-flows/email-flows.service.js';
import type { Branding } from '../kit/layout.js';
import { confirmLinkPage, resetPage } from './views.js';

export type LinkPurposeName = 'password-reset' | 'verify-email' | 'confirm-email';

/** What the landing page's form is drawn with. */
export interface LinkForm {
  action: string;
  csrf: string;
  token: string;
  /** The tenant's password policy (the reset form shows it). */
  minLength: number;
  error?: string;
}

/** How a refusal of the flows reads: the form again with a message, or an error page. */
export type Refusal =
  { status: number; form: string } | { status: number; error: string; message: string };

export interface LinkPurpose {
  /** The pages the link belongs to: /<tenant>/login or /<tenant>/account. */
  area: 'login' | 'account';
  path: string;
  /** Name of the pages in the fallback branding (unknown tenant). */
  areaName: string;
  /** The double-submit cookie and the HMAC key of its forms. */
  cookie: string;
  csrf: TenantKeyPurpose;
  expired: string;
  /** Where a dead link sends the user, relative to the area, and the link's text. */
  again: { path: string; text?: string };
  page(b: Branding, f: LinkForm): string;
  /** A problem with the posted form, found before the link is spent. */
  check?(form: Record<string, string>): string | undefined;
  spend(
    flows: EmailFlowsService,
    tenantId: string,
    token: string,
    form: Record<string, string>,
    ctx: AuditContext,
  ): Promise<unknown>;
  /** How a refusal reads; undefined: the link is dead. */
  refusal(err: DomainError, f: LinkForm): Refusal | undefined;
  done: { title: string; message: string };
}

/** The account's links: a landing page with one button, so a mail scanner spends nothing. */
function accountLink(
  path: 'verify-email' | 'confirm-email',
  text: { title: string; text: string; button: string; done: string },
  spend: LinkPurpose['spend'],
): LinkPurpose {
  return {
    area: 'account',
    path,
    areaName: 'Account',
    cookie: 'idp_link',
    csrf: 'email-link-csrf',
    expired: 'The form has expired. Open the link again.',
    again: { path: '', text: 'Go to your account' },
    page: (b, f) => confirmLinkPage(b, { ...text, ...f }),
    spend,
    refusal: (err) => {
      if (err.kind === 'conflict')
        return {
          status: 409,
          error: 'conflict',
          message: 'Another account uses this address now.',
        };
      if (err.kind === 'too-many')
        return {
          status: 429,
          error: 'too_many_requests',
          message: 'Too many attempts. Try again later.',
        };
      return undefined;
    },
    done: { title: text.title, message: text.done },
  };
}

export const LINK_PURPOSES: Record<LinkPurposeName, LinkPurpose> = {
  'password-reset': {
    area: 'login',
    path: 'reset',
    areaName: 'Sign in',
    cookie: 'idp_form',
    csrf: 'reset-form-csrf',
    expired: 'The form has expired. Reload the page and try again.',
    again: { path: 'forgot' },
    page: resetPage,
    check: (form) => {
      const password = typeof form.password === 'string' ? form.password : '';
      if (!password || password.length > 1024) return 'Enter a new password.';
      if (password !== form.password2) return 'The two passwords are not the same.';
      return undefined;
    },
    spend: (flows, tenantId, token, form, ctx) =>
      flows.confirmPasswordReset(tenantId, token, form.password, ctx),
    refusal: (err, f) => {
      if (err.kind === 'invalid' && err.fields?.some((e) => e.field === 'password'))
        return {
          status: 400,
          form: `The password does not meet the policy: at least ${f.minLength} characters.`,
        };
      if (err.kind === 'too-many')
        return { status: 429, form: 'Too many attempts from your network. Try again later.' };
      return undefined;
    },
    done: {
      title: 'Password changed',
      message:
        'Your password is changed and you are signed out everywhere. Go back to the application and sign in with the new password.',
    },
  },
  'verify-email': accountLink(
    'verify-email',
    {
      title: 'Verify your email address',
      text: 'Confirm that this address is yours.',
      button: 'Verify my address',
      done: 'Your email address is verified.',
    },
    (flows, tenantId, token, _form, ctx) => flows.verify(tenantId, token, ctx),
  ),
  'confirm-email': accountLink(
    'confirm-email',
    {
      title: 'Confirm your new email address',
      text: 'Confirm that your account should use this new address from now on.',
      button: 'Use this address',
      done: 'Your account now uses the new email address.',
    },
    (flows, tenantId, token, _form, ctx) => flows.confirmEmailChange(tenantId, token, ctx),
  ),
};
