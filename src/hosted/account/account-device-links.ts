import { Inject, Injectable } from '@nestjs/common';
import { isDomainError } from '../../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { DeviceLinksService } from '../../passkeys/device-links.service.js';
import { qrSvg } from '../device-links/device-link.views.js';
import { statusOf } from '../kit/page-errors.js';
import type { PageReply } from '../kit/page-reply.js';
import { AccountService, type Extras, type Signed } from './account.service.js';

/**
 * The account page's "Add another device": a device link for the signed-in user, shown once
 * with its QR code. Like adding a passkey here, it needs a recent sign-in.
 */
@Injectable()
export class AccountDeviceLinks {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly links: DeviceLinksService,
    private readonly account: AccountService,
  ) {}

  async create(s: Signed): Promise<Extras | PageReply> {
    const age = Date.now() / 1000 - (s.loginTs ?? 0);
    if (age > this.config.recentAuthSeconds)
      return { status: 303, location: `${this.account.base(s.tenantId)}/signin?reauth=1` };
    try {
      const link = await this.links.create(s.tenantId, s.user.user_id, undefined, s.ctx);
      return {
        message: 'Open this link on the new device, or scan the QR code with it.',
        deviceLink: { url: link.url, expiresAt: link.expires_at, qr: await qrSvg(link.url) },
      };
    } catch (err) {
      if (!isDomainError(err)) throw err;
      return { status: statusOf(err), error: 'A device link could not be made.' };
    }
  }
}
