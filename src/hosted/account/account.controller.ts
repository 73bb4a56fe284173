import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../auth/auth.decorators.js';
import { auditContextOf } from '../../audit/audit.service.js';
import { PageErrorBoundary } from '../kit/page-errors.js';
import { form, type PageReply } from '../kit/page-reply.js';
import { AccountConnected } from './account-connected.js';
import { AccountEmail } from './account-email.js';
import { AccountPasskeys } from './account-passkeys.js';
import { AccountDeviceLinks } from './account-device-links.js';
import { AccountTotp } from './account-totp.js';
import { AccountService, type Extras, type HttpIn, type Signed } from './account.service.js';

function httpIn(req: FastifyRequest, reply: FastifyReply): HttpIn {
  return { req: req.raw, res: reply.raw, cookie: req.headers.cookie, ...auditContextOf(req) };
}

/**
 * The account page of each tenant (HTML; the signed-in user is the tenant's OIDC session). The
 * landing pages of its mailed links are email-links/'s.
 */
@ApiExcludeController()
@Public()
@Controller(':tenant_id/account')
export class AccountController {
  constructor(
    private readonly account: AccountService,
    private readonly accountPasskeys: AccountPasskeys,
    private readonly accountTotp: AccountTotp,
    private readonly accountEmail: AccountEmail,
    private readonly accountDeviceLinks: AccountDeviceLinks,
    private readonly accountConnected: AccountConnected,
  ) {}

  private readonly boundary = new PageErrorBoundary('Account');

  private reply(reply: FastifyReply, step: () => Promise<PageReply>) {
    return this.boundary.reply(reply, step);
  }

  private post(
    tenantId: string,
    req: FastifyRequest,
    reply: FastifyReply,
    body: unknown,
    action: (s: Signed, f: Record<string, string>, http: HttpIn) => Promise<Extras | PageReply>,
  ) {
    const http = httpIn(req, reply);
    const f = form(body);
    return this.reply(reply, () => this.account.post(tenantId, http, f, (s) => action(s, f, http)));
  }

  @Get()
  show(@Param('tenant_id') t: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.reply(reply, () => this.account.show(t, httpIn(req, reply)));
  }

  @Get('signin')
  signin(
    @Param('tenant_id') t: string,
    @Query('reauth') reauth: unknown,
    @Res() reply: FastifyReply,
  ) {
    return this.reply(reply, () => this.account.signin(t, reauth === '1'));
  }

  @Get('callback')
  callback(
    @Param('tenant_id') t: string,
    @Query() query: Record<string, unknown>,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.reply(reply, () => this.account.callback(t, query, httpIn(req, reply)));
  }

  @Post('profile')
  profile(
    @Param('tenant_id') t: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s, f) => this.account.profile(s, f));
  }

  @Post('email')
  email(
    @Param('tenant_id') t: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s, f) => this.accountEmail.change(s, f));
  }

  @Post('pin-pattern/aux-challenge')
  auxChallenge(
    @Param('tenant_id') t: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s, f, http) => this.accountEmail.auxChallenge(s, f, http));
  }

  @Post('pin-pattern/aux-authenticate')
  auxAuthenticate(
    @Param('tenant_id') t: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s, f, http) => this.accountEmail.auxAuthenticate(s, f, http));
  }

  @Post('password')
  password(
    @Param('tenant_id') t: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s, f, http) => this.account.password(s, f, http));
  }

  @Post('totp/enrol')
  totpEnrol(
    @Param('tenant_id') t: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s) => this.accountTotp.totpEnrol(s));
  }

  @Post('totp/confirm')
  totpConfirm(
    @Param('tenant_id') t: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s, f) => this.accountTotp.totpConfirm(s, f));
  }

  @Post('totp/disable')
  totpDisable(
    @Param('tenant_id') t: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s, f) => this.accountTotp.totpDisable(s, f));
  }

  @Post('recovery-codes')
  recoveryCodes(
    @Param('tenant_id') t: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s, f) => this.accountTotp.recoveryCodes(s, f));
  }

  @Post('passkeys/options')
  passkeyOptions(
    @Param('tenant_id') t: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s) => this.accountPasskeys.options(s));
  }

  @Post('passkeys/register')
  passkeyRegister(
    @Param('tenant_id') t: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s, f) => this.accountPasskeys.register(s, f));
  }

  @Post('device-links')
  deviceLink(
    @Param('tenant_id') t: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s) => this.accountDeviceLinks.create(s));
  }

  @Post('passkeys/:passkey_id/rename')
  passkeyRename(
    @Param('tenant_id') t: string,
    @Param('passkey_id') id: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s, f) => this.accountPasskeys.rename(s, id, f));
  }

  @Post('passkeys/:passkey_id/delete')
  passkeyDelete(
    @Param('tenant_id') t: string,
    @Param('passkey_id') id: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s) => this.accountPasskeys.remove(s, id));
  }

  @Post('connected/:link_id/unlink')
  connectedUnlink(
    @Param('tenant_id') t: string,
    @Param('link_id') id: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s) => this.accountConnected.unlink(s, id));
  }

  @Post('sessions/revoke-all')
  revokeAll(
    @Param('tenant_id') t: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s) => this.account.revokeAll(s));
  }

  @Post('sessions/:session_id/revoke')
  revokeSession(
    @Param('tenant_id') t: string,
    @Param('session_id') id: string,
    @Body() b: unknown,
    @Req() q: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.post(t, q, r, b, (s) => this.account.revokeSession(s, id));
  }
}
