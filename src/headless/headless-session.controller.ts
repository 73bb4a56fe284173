import { Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators.js';
import { HeadlessSessions, type SessionCaller } from './headless-session.js';
import { ApiProblems } from '../common/api-docs.js';

function caller(req: FastifyRequest, reply: FastifyReply): SessionCaller {
  void reply.header('cache-control', 'no-store');
  const { origin, authorization } = req.headers;
  return {
    req: req.raw,
    res: reply.raw,
    origin: typeof origin === 'string' ? origin : undefined,
    authorization: typeof authorization === 'string' ? authorization : undefined,
  };
}

/**
 * The seed's session endpoints (PassKey Auth `/auth/api/…`) under `/<tenant>/authn/…`:
 * the tenant's session cookie, or `Authorization: Bearer <the user's own access token>`.
 */
@ApiTags('headless sign-in')
@Public()
@Controller(':tenant_id/authn')
export class HeadlessSessionController {
  constructor(private readonly sessions: HeadlessSessions) {}

  @Post('validate')
  @ApiProblems(401, 403, 404)
  @HttpCode(200)
  @ApiOperation({ summary: 'Validate the session and renew it past half its lifetime' })
  @ApiOkResponse({ description: '{valid, user_id, session_id, expires_at, renewed, via}' })
  validate(
    @Param('tenant_id') t: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.sessions.validate(t, caller(req, reply));
  }

  @Post('user-info')
  @ApiProblems(401, 403, 404)
  @HttpCode(200)
  @ApiOperation({ summary: 'The signed-in user with session and tenant context' })
  @ApiOkResponse({ description: '{user, session, tenant, via}' })
  userInfo(
    @Param('tenant_id') t: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.sessions.userInfo(t, caller(req, reply));
  }

  @Post('set-session')
  @ApiProblems(401, 403, 404)
  @HttpCode(200)
  @ApiOperation({
    summary: "Set the session cookie from the user's own Bearer token (recent sign-in)",
  })
  @ApiOkResponse({ description: '{session_id, user_id}; Set-Cookie of the session' })
  setSession(
    @Param('tenant_id') t: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.sessions.setFromBearer(t, caller(req, reply));
  }

  @Post('logout')
  @ApiProblems(401, 403, 404)
  @HttpCode(204)
  @ApiOperation({ summary: 'End the current session (cookie or Bearer token)' })
  @ApiNoContentResponse()
  async logout(
    @Param('tenant_id') t: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    await this.sessions.logout(t, caller(req, reply));
  }
}
