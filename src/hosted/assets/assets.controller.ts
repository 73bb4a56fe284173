import { readFileSync } from 'node:fs';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../../auth/auth.decorators.js';
import { BROWSER_BUNDLE, BROWSER_VERSION } from './urls.js';
import { drawFavicon } from './favicon.js';
import { WEBAUTHN_SCRIPT } from './webauthn-script.js';

const FAVICON = drawFavicon();

/**
 * The static assets of the hosted pages: two scripts (never inline) and the favicon. Like the
 * pages, they are not part of the API document.
 */
@ApiTags('assets')
@Controller()
export class HostedAssetsController {
  private bundle?: string;

  @Get('assets/simplewebauthn-browser.js')
  @Public()
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=31536000, immutable')
  @Header('x-content-type-options', 'nosniff')
  @ApiExcludeEndpoint()
  @ApiOkResponse({ description: `@simplewebauthn/browser ${BROWSER_VERSION}, UMD bundle` })
  browserBundle(): string {
    this.bundle ??= readFileSync(BROWSER_BUNDLE, 'utf8');
    return this.bundle;
  }

  @Get('assets/idp-webauthn.js')
  @Public()
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  @Header('x-content-type-options', 'nosniff')
  @ApiExcludeEndpoint()
  @ApiOkResponse({ description: 'the passkey ceremonies of the hosted pages' })
  script(): string {
    return WEBAUTHN_SCRIPT;
  }

  @Get('favicon.ico')
  @Public()
  @ApiExcludeEndpoint()
  @Header('content-type', 'image/x-icon')
  @Header('cache-control', 'public, max-age=86400')
  favicon(): Buffer {
    return FAVICON;
  }
}
