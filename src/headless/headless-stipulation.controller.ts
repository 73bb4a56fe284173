import { Body, Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators.js';
import { ApiProblems } from '../common/api-docs.js';
import { StipulationStepDto } from './dto/stipulation.dto.js';
import { caller, STEP } from './headless-caller.js';
import { HeadlessSignIn } from './headless-sign-in.service.js';

/** The headless step of the tenant's stipulations (answers with next = stipulation). */
@ApiTags('headless sign-in')
@Public()
@Controller(':tenant_id/authn')
export class HeadlessStipulationController {
  constructor(private readonly flow: HeadlessSignIn) {}

  @Post('stipulation')
  @ApiProblems(400, 403, 404, 409, 429)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Meet a tenant stipulation (terms, new password, verified address), then go on',
  })
  @ApiOkResponse(STEP)
  stipulation(
    @Param('tenant_id') t: string,
    @Body() dto: StipulationStepDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.flow.stipulation(t, { ...dto }, caller(req, reply));
  }
}
