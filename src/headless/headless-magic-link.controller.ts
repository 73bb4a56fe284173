import { Body, Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators.js';
import { ApiProblems } from '../common/api-docs.js';
import { EmailCodeDto, StepCodeDto } from './dto/authn.dto.js';
import { caller, STEP } from './headless-caller.js';
import { HeadlessMagicLinks } from './headless-magic-link.service.js';

/** Sign-in links by mail for custom UIs (HeadlessMagicLinks). */
@ApiTags('headless sign-in')
@Public()
@Controller(':tenant_id/authn')
export class HeadlessMagicLinkController {
  constructor(private readonly magicLinks: HeadlessMagicLinks) {}

  @Post('magic-link')
  @ApiProblems(400, 403, 404, 409, 429)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Mail a sign-in link (same answer whether the address is known)',
    description:
      'Where the tenant sets magic_link_enabled and mail is configured. The mailed link shows a 6-digit code, typed into the custom UI at authn/magic-link/verify (next = magic_link_code).',
  })
  @ApiOkResponse(STEP)
  request(
    @Param('tenant_id') t: string,
    @Body() dto: EmailCodeDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.magicLinks.request(t, dto, caller(req, reply));
  }

  @Post('magic-link/verify')
  @ApiProblems(400, 401, 403, 404, 409, 429)
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with the code the mailed link shows' })
  @ApiOkResponse(STEP)
  verify(
    @Param('tenant_id') t: string,
    @Body() dto: StepCodeDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.magicLinks.verify(t, dto, caller(req, reply));
  }
}
