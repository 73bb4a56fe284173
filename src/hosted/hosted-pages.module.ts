import { Global, Module } from '@nestjs/common';
import { PROVIDER_PAGES } from '../oidc/provider-pages.port.js';
import { hostedProviderPages } from './provider-pages.js';

/** Hands the hosted layer's drawings of the provider's own pages to oidc/ (its port). */
@Global()
@Module({
  providers: [{ provide: PROVIDER_PAGES, useValue: hostedProviderPages }],
  exports: [PROVIDER_PAGES],
})
export class HostedPagesModule {}
