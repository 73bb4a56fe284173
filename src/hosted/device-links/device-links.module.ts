import { Module } from '@nestjs/common';
import { PasskeysModule } from '../../passkeys/passkeys.module.js';
import { DeviceLinkPages } from './device-link.pages.js';
import { DeviceLinksPagesController } from './device-links.controller.js';

/** The hosted landing page of device links, /<tenant_id>/device-link/<token>. */
@Module({
  imports: [PasskeysModule],
  controllers: [DeviceLinksPagesController],
  providers: [DeviceLinkPages],
})
export class DeviceLinksPagesModule {}
