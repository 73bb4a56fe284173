import { Injectable } from '@nestjs/common';
import QRCode from 'qrcode';
import { isDomainError } from '../../common/domain-error.js';
import { TotpService } from '../../mfa/totp.service.js';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import {
  InteractionContext,
  isPage,
  type Loaded,
  type SignedIn,
  type StepState,
} from './interaction-context.js';
import { enrolPage, recoveryCodesPage } from './step-views.js';

/**
 * Enrolment at sign-in: the tenant requires a second factor the user does not have yet. The
 * user scans a new TOTP secret, confirms it with a first code, and is shown the recovery codes
 * once; the next post (SignInProgress.continue) finishes the sign-in.
 */
@Injectable()
export class EnrolmentStep {
  constructor(
    private readonly context: InteractionContext,
    private readonly totp: TotpService,
  ) {}

  /** Starts a TOTP enrolment for the user and draws its page. */
  async begin(l: Loaded, state: SignedIn): Promise<PageResult> {
    const enrolment = await this.totp.enrol(l.tenantId, state.accountId);
    return this.render(l, {
      ...state,
      stage: 'enrol',
      enrolment: { secret: enrolment.secret, uri: enrolment.otpauth_uri },
    });
  }

  /** POST enrol: the first code of the new authenticator turns TOTP on; recovery codes follow. */
  async submit(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const step = await this.context.loadStep(tenantId, uid, form, http, ['enrol']);
    if (isPage(step)) return step;
    const { l, state } = step;
    const code = typeof form.code === 'string' ? form.code.slice(0, 64) : '';
    let codes: string[];
    try {
      const actor = this.context.actor(http, state);
      codes = (await this.totp.confirm(tenantId, state.accountId, code, actor)).recovery_codes;
    } catch (err) {
      if (!isDomainError(err)) throw err;
      if (err.kind === 'too-many')
        return this.render(
          l,
          state,
          'Too many wrong codes. Wait a few minutes, then try again.',
          429,
        );
      return this.render(
        l,
        state,
        'That code is not right. Check the time on your device and try the current code.',
        400,
      );
    }
    return {
      status: 200,
      html: recoveryCodesPage(l.branding, {
        action: l.actions.continue,
        fields: this.context.stepFields(l, {
          stage: 'enrolled',
          accountId: state.accountId,
          amr: [...state.amr, 'otp'],
          method: 'totp',
        }),
        codes,
      }),
    };
  }

  private async render(
    l: Loaded,
    state: StepState,
    error?: string,
    status = 200,
  ): Promise<PageResult> {
    const { secret, uri } = state.enrolment!;
    return {
      status,
      html: enrolPage(l.branding, {
        action: l.actions.enrol,
        fields: this.context.stepFields(l, state),
        secret,
        uri,
        qr: await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M' }),
        error,
        abortAction: l.actions.abort,
      }),
    };
  }
}
