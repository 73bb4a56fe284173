import { Injectable } from '@nestjs/common';
import QRCode from 'qrcode';
import { isDomainError } from '../../common/domain-error.js';
import { TotpService } from '../../mfa/totp.service.js';
import { messageOf, statusOf } from '../kit/page-errors.js';
import { str, type Extras, type Signed } from './account.service.js';

/** What a refused code reads as on the page, by kind (others: the error's own message). */
const CODE_MESSAGES = { 'too-many': 'Too many wrong codes. Wait a few minutes, then try again.' };

/** The account page's two-step verification actions: enrol, confirm, turn off, new recovery codes. */
@Injectable()
export class AccountTotp {
  constructor(private readonly totp: TotpService) {}

  private async enrolmentView(secret: string, uri: string) {
    return { secret, uri, qr: await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M' }) };
  }

  async totpEnrol(s: Signed): Promise<Extras> {
    try {
      const e = await this.totp.enrol(s.tenantId, s.user.user_id, s.ctx);
      return { enrolment: await this.enrolmentView(e.secret, e.otpauth_uri) };
    } catch (err) {
      if (!isDomainError(err)) throw err;
      return { status: statusOf(err), error: err.message };
    }
  }

  private codeError(err: unknown): Extras {
    if (!isDomainError(err)) throw err;
    if (err.kind === 'too-many' || err.kind === 'conflict')
      return { status: statusOf(err), error: messageOf(err, CODE_MESSAGES, err.message) };
    return { status: 400, error: 'That code is wrong, expired or already used.' };
  }

  async totpConfirm(s: Signed, form: Record<string, string>): Promise<Extras> {
    try {
      const { recovery_codes } = await this.totp.confirm(
        s.tenantId,
        s.user.user_id,
        str(form.code),
        s.ctx,
      );
      return { message: 'Two-step verification is on.', recoveryCodes: recovery_codes };
    } catch (err) {
      return this.codeError(err);
    }
  }

  async totpDisable(s: Signed, form: Record<string, string>): Promise<Extras> {
    try {
      await this.totp.disable(s.tenantId, s.user.user_id, str(form.code), s.ctx);
      return { message: 'Two-step verification is off.' };
    } catch (err) {
      return this.codeError(err);
    }
  }

  async recoveryCodes(s: Signed, form: Record<string, string>): Promise<Extras> {
    try {
      const { recovery_codes } = await this.totp.regenerateRecoveryCodes(
        s.tenantId,
        s.user.user_id,
        str(form.code),
        s.ctx,
      );
      return {
        message: 'New recovery codes made; the old ones no longer work.',
        recoveryCodes: recovery_codes,
      };
    } catch (err) {
      return this.codeError(err);
    }
  }
}
