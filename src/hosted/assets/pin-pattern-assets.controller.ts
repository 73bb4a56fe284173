import { readFileSync } from 'node:fs';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../auth/auth.decorators.js';
import { OPAQUE_BUNDLE, OPAQUE_VERSION, PIN_PATTERN_SCRIPT } from './pin-pattern-script.js';

/** The scripts of the PIN/pattern sign-in: the OPAQUE client and the page's own module. */
@ApiTags('assets')
@Controller('assets')
export class PinPatternAssetsController {
  private bundle?: string;

  @Get('opaque-client.js')
  @Public()
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=31536000, immutable')
  @Header('x-content-type-options', 'nosniff')
  @ApiOperation({ summary: 'The OPAQUE client the PIN/pattern sign-in page runs' })
  @ApiOkResponse({ description: `@serenity-kit/opaque ${OPAQUE_VERSION}, ES module` })
  opaqueClient(): string {
    this.bundle ??= readFileSync(OPAQUE_BUNDLE, 'utf8');
    return this.bundle;
  }

  @Get('idp-pin-pattern.js')
  @Public()
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  @Header('x-content-type-options', 'nosniff')
  @ApiOperation({ summary: 'The keypad, pattern grid and OPAQUE exchange of the sign-in page' })
  @ApiOkResponse({ description: 'ES module' })
  script(): string {
    return PIN_PATTERN_SCRIPT;
  }
}
