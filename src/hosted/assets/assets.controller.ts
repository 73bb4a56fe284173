import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../../auth/auth.decorators.js';
import { drawFavicon } from './favicon.js';
import { WEBAUTHN_SCRIPT } from './webauthn-script.js';

const BROWSER_PACKAGE = '@simplewebauthn/browser';
const browserRoot = dirname(dirname(createRequire(import.meta.url).resolve(BROWSER_PACKAGE)));
const BROWSER_BUNDLE = join(browserRoot, 'dist', 'bundle', 'index.umd.min.js');
const BROWSER_VERSION = (
  JSON.parse(readFileSync(join(browserRoot, 'package.json'), 'utf8')) as { version: string }
).version;

/**
 * Where pages load @simplewebauthn/browser from (it defines `SimpleWebAuthnBrowser`). The
 * version in the query makes the long cache safe across upgrades.
 */
export const SIMPLEWEBAUTHN_BROWSER_URL = `/assets/simplewebauthn-browser.js?v=${BROWSER_VERSION}`;
export const IDP_WEBAUTHN_URL = '/assets/idp-webauthn.js';

const FAVICON = drawFavicon();

/** The static assets of the hosted pages: two scripts (never inline) and the favicon. */
@ApiTags('assets')
@Controller()
export class HostedAssetsController {
  private bundle?: string;

  @Get('assets/simplewebauthn-browser.js')
  @Public()
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=31536000, immutable')
  @Header('x-content-type-options', 'nosniff')
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
