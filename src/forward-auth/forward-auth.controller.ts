import { Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators.js';
import { ApiProblems } from '../common/api-docs.js';
import { checkAnswer, problemAnswer, wantsHtml, type AnswerOptions } from './check-answer.js';
import { ForwardAuthService, type CheckOutcome } from './forward-auth.service.js';
import { ForwardSigninService, type SigninStep } from './forward-signin.service.js';

function problem(
  reply: FastifyReply,
  status: number,
  reason: string,
  extra: Record<string, string> = {},
) {
  const r = problemAnswer(status, reason, extra);
  return reply.code(r.status).headers(r.headers).send(r.body);
}

function answer(reply: FastifyReply, o: CheckOutcome, opts: AnswerOptions) {
  const r = checkAnswer(o, opts);
  reply.code(r.status).headers(r.headers);
  return r.body === undefined ? reply.send() : reply.send(r.body);
}

function step(reply: FastifyReply, s: SigninStep) {
  if (s.setCookie) reply.header('set-cookie', s.setCookie);
  if ('location' in s)
    return reply
      .code(s.status)
      .headers({ location: s.location, 'cache-control': 'no-store' })
      .send();
  return problem(reply, s.status, s.reason);
}

/**
 * Forward-auth under each tenant: the check a reverse proxy calls before passing a request on
 * (nginx `auth_request`, Traefik `forwardAuth`, Caddy `forward_auth`), the seeds' aliases, and
 * the sign-in round trip that sets the cookie on the app's host.
 */
@ApiTags('forward-auth')
@Public()
@Controller(':tenant_id/forward-auth')
export class ForwardAuthController {
  constructor(
    private readonly forward: ForwardAuthService,
    private readonly signin: ForwardSigninService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Reverse-proxy check (Traefik/Caddy forward auth, nginx auth_request)',
    description:
      'Reads the original request from X-Original-URL or X-Forwarded-Proto/Host/Uri/Method. 200 with Remote-User, Remote-Email, Remote-Name, Remote-Groups, Remote-Id (and optionally Authorization) when the forward-auth cookie is valid; 302 to sign-in for Accept: text/html, else 401; 403 outside the allowed groups.',
  })
  @ApiResponse({ status: 200, description: 'signed in; identity in the response headers' })
  @ApiResponse({ status: 302, description: 'browser without a session: to sign-in' })
  @ApiProblems(
    [401, 'no valid session (Location: the sign-in URL)'],
    [403, 'signed in but not allowed (group, second factor), or host not protected'],
  )
  async check(
    @Param('tenant_id') t: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const o = await this.forward.check(t, req.headers);
    return answer(reply, o, { ok: 200, redirect: wantsHtml(req.headers.accept) ? 302 : undefined });
  }

  @Get('verify')
  @ApiOperation({
    summary: 'Seed alias for nginx auth_request: 200 with identity headers, or 401/403',
  })
  @ApiResponse({ status: 200, description: 'signed in; identity in the response headers' })
  @ApiProblems([401, 'no valid session'], [403, 'signed in, but not allowed to use this app'])
  async verify(
    @Param('tenant_id') t: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return answer(reply, await this.forward.check(t, req.headers), { ok: 200 });
  }

  @Get('vouch')
  @ApiOperation({
    summary: 'Seed alias (vouch): 200 {success: true}, or 401; with forward=true a 307 to sign-in',
  })
  @ApiQuery({ name: 'forward', required: false, type: Boolean })
  @ApiQuery({
    name: 'continue',
    required: false,
    description: 'return URL instead of the X-Forwarded-* one; must be a protected app URL',
  })
  @ApiResponse({ status: 200, description: '{success: true}; identity in the response headers' })
  @ApiResponse({ status: 307, description: 'forward=true and no session: to sign-in' })
  @ApiProblems(
    [400, 'continue is not a URL of a protected app'],
    [401, 'no valid session'],
    [403, 'not allowed to use this app'],
  )
  async vouch(
    @Param('tenant_id') t: string,
    @Query() q: Record<string, unknown>,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const cont = typeof q.continue === 'string' ? q.continue : undefined;
    const o = await this.forward.check(t, req.headers, cont);
    return answer(reply, o, { ok: 200, redirect: q.forward === 'true' ? 307 : undefined });
  }

  @Get('proxy')
  @ApiOperation({ summary: 'Seed alias (PassKey Auth forward): 204 with identity headers, or 4xx' })
  @ApiResponse({ status: 204, description: 'signed in; identity in the response headers' })
  @ApiProblems([401, 'no valid session'], [403, 'not allowed to use this app'])
  async proxy(
    @Param('tenant_id') t: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return answer(reply, await this.forward.check(t, req.headers), { ok: 204 });
  }

  @Post('proxy/validate')
  @ApiOperation({ summary: 'Seed alias: validate the session cookie and renew it when due' })
  @ApiResponse({ status: 200, description: 'the session; Set-Cookie when renewed' })
  @ApiProblems([401, 'no valid session'])
  async validate(
    @Param('tenant_id') t: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const r = this.forward.validate(t, req.headers);
    if (!r) return problem(reply, 401, 'no valid session');
    if (r.setCookie) reply.header('set-cookie', r.setCookie);
    return reply.code(200).type('application/json').send(JSON.stringify(r.body));
  }

  @Post('proxy/set-session')
  @ApiOperation({ summary: 'Seed alias: set the session cookie from a Bearer hand-off token' })
  @ApiResponse({ status: 204, description: 'the cookie is set' })
  @ApiProblems([401, 'no or an invalid hand-off token'])
  async setSession(
    @Param('tenant_id') t: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    if (!token) return problem(reply, 401, 'a Bearer hand-off token is required');
    const s = await this.signin.session(t, token, req.headers);
    if (s.setCookie) reply.header('set-cookie', s.setCookie);
    if ('location' in s) return reply.code(204).send();
    return problem(reply, s.status === 400 ? 401 : s.status, s.reason);
  }

  @Post('proxy/logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Seed alias: sign out the session of the cookie' })
  @ApiResponse({ status: 204, description: 'signed out (also without a session)' })
  @ApiProblems([404, 'unknown tenant'])
  async proxyLogout(
    @Param('tenant_id') t: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    await this.signin.logout(t, req.headers.cookie);
    return reply
      .code(204)
      .header('set-cookie', await this.signin.clearCookies(t, req.headers))
      .send();
  }

  @Get('start')
  @ApiOperation({
    summary: 'Sign in for a protected app, coming back to rd (a URL of that app)',
    description:
      'Served alike on every host (an app host through its /_idp/ route too); when the tenant has an auth_host, other hosts answer 307 to it, method and body kept.',
  })
  @ApiQuery({ name: 'rd', required: true })
  @ApiResponse({ status: 303, description: 'to the hosted sign-in' })
  @ApiResponse({ status: 307, description: "not the tenant's auth host: the same path there" })
  @ApiProblems([400, 'rd is not a URL of a protected app'])
  async start(
    @Param('tenant_id') t: string,
    @Query('rd') rd: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return step(reply, await this.signin.start(t, rd));
  }

  @Post('start')
  @ApiOperation({ summary: 'As GET start (a form posted from an app host arrives here by 307)' })
  @ApiQuery({ name: 'rd', required: true })
  @ApiResponse({ status: 303, description: 'to the hosted sign-in' })
  @ApiProblems([400, 'rd is not a URL of a protected app'])
  async startPost(
    @Param('tenant_id') t: string,
    @Query('rd') rd: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.start(t, rd, req, reply);
  }

  @Get('callback')
  @ApiOperation({ summary: 'Back from the sign-in: on to the app host with a one-time hand-off' })
  @ApiResponse({ status: 303, description: "on to the app host's /_idp/ session route" })
  @ApiResponse({ status: 307, description: "not the tenant's auth host: the same path there" })
  @ApiProblems([400, 'the sign-in did not come back as expected'], [404, 'unknown tenant'])
  async callback(
    @Param('tenant_id') t: string,
    @Query() q: Record<string, unknown>,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return step(reply, await this.signin.callback(t, q, req.raw, reply.raw));
  }

  @Get('session')
  @ApiOperation({
    summary:
      "On the app's host (its proxy routes /_idp/ here): set the cookie from a one-time hand-off",
  })
  @ApiQuery({ name: 'token', required: true })
  @ApiResponse({ status: 303, description: 'cookie set, on to the app URL' })
  @ApiProblems([400, 'the hand-off is invalid, used or for another host'])
  async session(
    @Param('tenant_id') t: string,
    @Query('token') token: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return step(reply, await this.signin.session(t, token, req.headers));
  }

  @Post('logout')
  @ApiOperation({
    summary:
      "Sign out (ends the session on every app and the account page); then to rd when it is an app's URL",
  })
  @ApiResponse({ status: 200, description: 'signed out' })
  @ApiResponse({ status: 303, description: 'signed out, on to rd' })
  @ApiProblems([404, 'unknown tenant'])
  async logout(
    @Param('tenant_id') t: string,
    @Query('rd') rd: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    await this.signin.logout(t, req.headers.cookie);
    reply.header('set-cookie', await this.signin.clearCookies(t, req.headers));
    const safe = (await this.forward.index(t))?.safeReturn(typeof rd === 'string' ? rd : undefined);
    if (safe) return reply.code(303).header('location', safe.url).send();
    return reply.code(200).type('text/plain; charset=utf-8').send('Signed out.\n');
  }
}
