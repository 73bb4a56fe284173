import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators.js';
import { ClientsService } from '../clients/clients.service.js';
import { LoginMethods } from '../hosted/interaction/login-methods.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { SigningKeysService } from '../signing-keys/signing-keys.service.js';
import { TenantsService } from '../tenants/tenants.service.js';
import {
  AuthReqDto,
  ClientInfoDto,
  ClientTenantDto,
  SignedClientTenantDto,
  EmailCodeDto,
  IdentifyDto,
  MethodDto,
  PasskeyOptionsDto,
  PasskeyVerifyDto,
  PasswordDto,
  SignInPolicyDto,
  StartDto,
  StepAnswerDto,
  StepCodeDto,
} from './dto/authn.dto.js';
import { HeadlessSignIn } from './headless-sign-in.service.js';
import { UpstreamFlow } from '../hosted/upstream/upstream.flow.js';
import { HeadlessStart } from './headless-start.js';
import { ApiProblems } from '../common/api-docs.js';
import { caller, STEP } from './headless-caller.js';

/**
 * Headless sign-in for custom UIs (JSON), bound to a pending authorisation. Public: the
 * `auth_req_id` and the step tokens are the caller's proof; every rule is the hosted pages'.
 */
@ApiTags('headless sign-in')
@Public()
@Controller(':tenant_id/authn')
export class HeadlessController {
  constructor(
    private readonly flow: HeadlessSignIn,
    private readonly starter: HeadlessStart,
    private readonly upstream: UpstreamFlow,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** At `authenticate`, the tenant's upstream providers with the URL that starts each. */
  private async withUpstream(tenantId: string, answer: StepAnswerDto): Promise<StepAnswerDto> {
    if (answer.next !== 'authenticate') return answer;
    const buttons = await this.upstream.buttons(tenantId, answer.auth_req_id);
    const origin = new URL(this.config.publicUrl).origin;
    return {
      ...answer,
      upstream_providers: buttons.map((b) => ({
        provider_id: b.providerId,
        label: b.label,
        icon_url: b.iconUrl,
        start_url: new URL(b.href, origin).href,
      })),
    };
  }

  @Post('start')
  @ApiProblems(400, 403, 404)
  @HttpCode(201)
  @ApiOperation({ summary: 'Start an authorisation (client_id, redirect_uri, PKCE, scope)' })
  @ApiOkResponse(STEP)
  async start(
    @Param('tenant_id') tenantId: string,
    @Body() dto: StartDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StepAnswerDto> {
    const c = caller(req, reply);
    const started = await this.starter.start(tenantId, { ...dto }, req.headers, c.ip, (tenant) =>
      this.flow.assertStartOrigin(tenant, dto.client_id, c.origin),
    );
    if (started.setCookie.length) void reply.header('set-cookie', started.setCookie);
    if (!started.authReqId)
      return { auth_req_id: '', status: 'complete', finish_url: started.location };
    return this.withUpstream(tenantId, await this.flow.identify(tenantId, started.authReqId, c));
  }

  @Post('identify')
  @ApiProblems(400, 403, 404, 409)
  @HttpCode(200)
  @ApiOperation({ summary: 'The sign-in methods on offer (same answer for any login)' })
  @ApiOkResponse(STEP)
  async identify(
    @Param('tenant_id') t: string,
    @Body() dto: IdentifyDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.withUpstream(t, await this.flow.identify(t, dto.auth_req_id, caller(req, reply)));
  }

  @Post('password')
  @ApiProblems(400, 401, 403, 404, 409, 429)
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with username or email and password' })
  @ApiOkResponse(STEP)
  password(
    @Param('tenant_id') t: string,
    @Body() dto: PasswordDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.flow.password(t, dto, caller(req, reply));
  }

  @Post('method')
  @ApiProblems(400, 401, 403, 404, 409, 429)
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with another first-factor method of the tenant (plug-ins)' })
  @ApiOkResponse(STEP)
  method(
    @Param('tenant_id') t: string,
    @Body() dto: MethodDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.flow.method(t, dto, caller(req, reply));
  }

  @Post('passkey/options')
  @ApiProblems(400, 403, 404, 409)
  @HttpCode(200)
  @ApiOperation({
    summary: 'WebAuthn assertion options: discoverable or for a login (also for autofill)',
  })
  @ApiOkResponse({ description: 'the assertion options and the challenge_id to verify with' })
  async passkeyOptions(
    @Param('tenant_id') t: string,
    @Body() dto: PasskeyOptionsDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.flow.passkeyOptions(t, dto, caller(req, reply));
  }

  @Post('passkey/verify')
  @ApiProblems(400, 401, 403, 404, 409, 429)
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with a passkey assertion' })
  @ApiOkResponse(STEP)
  passkeyVerify(
    @Param('tenant_id') t: string,
    @Body() dto: PasskeyVerifyDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const response = dto.response as unknown as AuthenticationResponseJSON;
    return this.flow.passkeyVerify(t, { ...dto, response }, caller(req, reply));
  }

  @Post('email-code')
  @ApiProblems(400, 403, 404, 409, 429)
  @HttpCode(200)
  @ApiOperation({ summary: 'Mail a sign-in code (same answer whether the address is known)' })
  @ApiOkResponse(STEP)
  emailCode(
    @Param('tenant_id') t: string,
    @Body() dto: EmailCodeDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.flow.emailCode(t, dto, caller(req, reply));
  }

  @Post('email-code/verify')
  @ApiProblems(400, 401, 403, 404, 409, 429)
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with the mailed code' })
  @ApiOkResponse(STEP)
  emailCodeVerify(
    @Param('tenant_id') t: string,
    @Body() dto: StepCodeDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.flow.emailCodeVerify(t, dto, caller(req, reply));
  }

  @Post('second-factor')
  @ApiProblems(400, 401, 403, 404, 409, 429)
  @HttpCode(200)
  @ApiOperation({ summary: 'The second factor: a TOTP or a recovery code' })
  @ApiOkResponse(STEP)
  secondFactor(
    @Param('tenant_id') t: string,
    @Body() dto: StepCodeDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.flow.secondFactor(t, dto, caller(req, reply));
  }

  @Post('enrol')
  @ApiProblems(400, 401, 403, 404, 409)
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm the TOTP the tenant requires (first code); recovery codes' })
  @ApiOkResponse(STEP)
  enrol(
    @Param('tenant_id') t: string,
    @Body() dto: StepCodeDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.flow.enrol(t, dto, caller(req, reply));
  }

  @Post('abort')
  @ApiProblems(400, 403, 404, 409)
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel: the client hears access_denied' })
  @ApiOkResponse(STEP)
  abort(
    @Param('tenant_id') t: string,
    @Body() dto: AuthReqDto,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.flow.abort(t, dto.auth_req_id, caller(req, reply));
  }
}

/** What a custom UI draws before any step: the client and the tenant's sign-in policy. */
@ApiTags('headless sign-in')
@Public()
@Controller(':tenant_id/authn')
export class HeadlessInfoController {
  constructor(
    private readonly clients: ClientsService,
    private readonly tenants: TenantsService,
    private readonly methods: LoginMethods,
    private readonly keys: SigningKeysService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private async clientInfo(tenantId: string, clientId: string): Promise<ClientInfoDto> {
    const settings = await this.tenants.settings(tenantId);
    const c = await this.clients.get(tenantId, clientId);
    return {
      client_id: c.client_id,
      name: c.name,
      tenant_id: tenantId,
      logo_uri: c.logo_uri,
      client_uri: c.client_uri,
      op_policy_url: c.policy_uri,
      op_tos_url: c.tos_uri,
      op_user_agreement_url: c.op_user_agreement_url,
      client_logout_uri: c.client_logout_uri,
      register_enable: settings.register_enable || c.register_enable,
      tenant_name: settings.display_name,
    };
  }

  @Get('clients/:client_id')
  @ApiProblems([404, 'unknown tenant or client'])
  @ApiOperation({ summary: "A client's display information (seed: Get Client)" })
  @ApiOkResponse({ type: ClientInfoDto })
  client(
    @Param('tenant_id') tenantId: string,
    @Param('client_id') clientId: string,
  ): Promise<ClientInfoDto> {
    return this.clientInfo(tenantId, clientId);
  }

  @Get('clients/:client_id/tenant')
  @ApiProblems([404, 'unknown tenant or client'])
  @ApiOperation({ summary: "A client with its tenant's sign-in policy (seed: Get Client Tenant)" })
  @ApiOkResponse({ type: ClientTenantDto })
  async clientTenant(
    @Param('tenant_id') tenantId: string,
    @Param('client_id') clientId: string,
  ): Promise<ClientTenantDto> {
    const [client, tenant] = await Promise.all([
      this.clientInfo(tenantId, clientId),
      this.policy(tenantId),
    ]);
    return { client, tenant };
  }

  @Get('clients/:client_id/tenant/signed')
  @ApiProblems([404, 'unknown tenant or client'])
  @ApiOperation({
    summary: 'The same, as a JWT signed with the tenant key (seed: Get Client Tenant Signed)',
    description:
      '`data` is an RS256 JWT (iss = the tenant issuer, 5 minutes) carrying `client` and `tenant`; verify it against `/{tenant_id}/jwks`.',
  })
  @ApiOkResponse({ type: SignedClientTenantDto })
  async clientTenantSigned(
    @Param('tenant_id') tenantId: string,
    @Param('client_id') clientId: string,
  ): Promise<SignedClientTenantDto> {
    const body = await this.clientTenant(tenantId, clientId);
    const iss = `${this.config.publicUrl.replace(/\/$/, '')}/${tenantId}`;
    return { data: await this.keys.signJwt(tenantId, { iss, ...body }) };
  }

  @Get('policy')
  @ApiProblems(404)
  @ApiOperation({ summary: "The tenant's sign-in policy: methods, PIN/pattern sizes, order" })
  @ApiOkResponse({ type: SignInPolicyDto })
  async policy(@Param('tenant_id') tenantId: string): Promise<SignInPolicyDto> {
    const s = await this.tenants.settings(tenantId);
    return {
      tenant_id: tenantId,
      display_name: s.display_name,
      methods: this.methods.forTenant(s).map((m) => m.id),
      password_enabled: s.password_enabled,
      password_min_length: s.password_min_length,
      passkey_enabled: s.passkey_enabled,
      is_2fa: s.is_2fa,
      register_enable: s.register_enable,
      use_pin: s.use_pin,
      pin_size: s.pin_size,
      use_pattern: s.use_pattern,
      pattern_size: s.pattern_size,
      show_pin_when_typing: s.show_pin_when_typing,
      login_order: s.login_order,
    };
  }
}
