import { Injectable, Logger } from '@nestjs/common';
import { MailService } from '../mail/mail.service.js';
import { credentialAddedMail } from '../mail/templates.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { UserEvents, type UserEvent } from '../users/user-events.js';
import { UsersService } from '../users/users.service.js';

/**
 * Tells users by mail when a way to sign in is added to their account (passkey, TOTP), from
 * whichever path added it (account page, self-service API, sign-in enrolment). The mail goes
 * out after the change is answered: a slow or refusing mail server never fails the change.
 */
@Injectable()
export class SecurityNotices {
  private readonly logger = new Logger('SecurityNotices');

  constructor(
    events: UserEvents,
    private readonly mail: MailService,
    private readonly users: UsersService,
    private readonly tenants: TenantsService,
  ) {
    events.subscribe((e) => {
      if (e.type !== 'credential_added' || !e.credential || !this.mail.enabled) return;
      setImmediate(() => {
        this.credentialAdded(e).catch((err: unknown) =>
          this.logger.warn({ err, tenantId: e.tenantId }, 'credential-added notice failed'),
        );
      });
    });
  }

  private async credentialAdded(e: UserEvent): Promise<void> {
    const user = await this.users.getEntity(e.tenantId, e.userId);
    if (!user?.email || !e.credential) return;
    const { display_name } = await this.tenants.settings(e.tenantId);
    await this.mail.send({ to: user.email, ...credentialAddedMail(display_name, e.credential) });
  }
}
