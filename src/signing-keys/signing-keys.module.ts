import { Module } from '@nestjs/common';
import { TenancyModule } from '../../libs/tenancy/index.js';
import { SigningKeyEntity } from './signing-key.entity.js';
import { SigningKeysController } from './signing-keys.controller.js';
import { SigningKeysService } from './signing-keys.service.js';
import { SigningKeyTransfer } from './signing-key-transfer.js';

@Module({
  imports: [TenancyModule.forFeature([SigningKeyEntity])],
  controllers: [SigningKeysController],
  providers: [SigningKeysService, SigningKeyTransfer],
  exports: [SigningKeysService, SigningKeyTransfer],
})
export class SigningKeysModule {}
