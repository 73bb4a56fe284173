import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators.js';
import { drawFavicon } from './favicon.js';

const FAVICON = drawFavicon();

/** Static assets of the hosted pages. */
@ApiExcludeController()
@Controller()
export class HostedAssetsController {
  @Get('favicon.ico')
  @Public()
  @Header('content-type', 'image/x-icon')
  @Header('cache-control', 'public, max-age=86400')
  favicon(): Buffer {
    return FAVICON;
  }
}
