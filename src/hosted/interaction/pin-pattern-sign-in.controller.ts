import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../auth/auth.decorators.js';
import { OidcProviders } from '../../oidc/oidc-providers.service.js';
import { SignInQueryDto } from '../../pin-pattern/dto/pin-pattern.dto.js';
import { PageErrorBoundary } from '../kit/page-errors.js';
import { form, pageRequest, type PageResult } from '../kit/page-reply.js';
import { PinPatternEnrolmentStep } from './pin-pattern-enrolment.step.js';
import { FirstFactorStep } from './first-factor.step.js';
import { InteractionContext, isPage } from './interaction-context.js';
import { LoginMethods } from './login-methods.js';

/**
 * The seed's Sign In: `oid_nonce` + `auth_req_id` finish the pending authorisation. The
 * interaction's cookie is scoped to `/<t>/interaction/<uid>`, so this hands the browser on
 * to the interaction's own route, which reads it.
 */
// A browser entry that redirects into the hosted pages: like them, not in the API document.
@ApiExcludeController()
@ApiTags('pin-pattern')
@Public()
@Controller(':tenant_id/authn/zkp')
export class PinPatternSignInController {
  constructor(private readonly providers: OidcProviders) {}

  private location(tenantId: string, q: SignInQueryDto) {
    const base = new URL(this.providers.issuerOf(tenantId)).pathname;
    return `${base}/interaction/${encodeURIComponent(q.auth_req_id)}/login/pin-pattern?oid_nonce=${encodeURIComponent(q.oid_nonce)}`;
  }

  @Get('sign-in')
  @HttpCode(303)
  @ApiOperation({
    summary: 'Sign in: spend the nonce of authenticate on the pending authorisation',
    description:
      'Redirects (303) to the interaction, which finishes it (further steps such as a second factor first) and sends the browser back to the client with a code.',
  })
  @ApiResponse({ status: 303, description: 'to the interaction' })
  signIn(
    @Param('tenant_id') tenantId: string,
    @Query() q: SignInQueryDto,
    @Res() reply: FastifyReply,
  ) {
    void reply
      .status(303)
      .header('cache-control', 'no-store')
      .header('location', this.location(tenantId, q))
      .send();
  }

  @Post('sign-in')
  @HttpCode(303)
  @ApiOperation({ summary: 'Sign in (POST form of the same)' })
  @ApiResponse({ status: 303, description: 'to the interaction' })
  signInPost(
    @Param('tenant_id') tenantId: string,
    @Query() q: SignInQueryDto,
    @Res() reply: FastifyReply,
  ) {
    this.signIn(tenantId, q, reply);
  }
}

/** The interaction's end of Sign In: the nonce goes through the login like a form post. */
@ApiExcludeController()
@Public()
@Controller(':tenant_id/interaction/:uid')
export class PinPatternInteractionController {
  constructor(
    private readonly context: InteractionContext,
    private readonly firstFactor: FirstFactorStep,
    private readonly methods: LoginMethods,
    private readonly enrolment: PinPatternEnrolmentStep,
  ) {}

  private readonly boundary = new PageErrorBoundary('Sign in');

  @Post('pin-pattern/enrol/start')
  enrolStart(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.boundary.reply(reply, () =>
      this.enrolment.enrolStart(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Post('pin-pattern/enrol')
  enrol(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.boundary.reply(reply, () =>
      this.enrolment.enrol(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Get('login/pin-pattern')
  finish(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Query('oid_nonce') nonce: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.boundary.reply(reply, async (): Promise<PageResult> => {
      const http = pageRequest(req, reply);
      const l = await this.context.loadAt('login', tenantId, uid, http);
      if (isPage(l)) return l;
      const method = this.methods.find(l.settings, 'pin-pattern');
      if (!method) return this.firstFactor.render(l, 'Choose a way to sign in.', 400);
      const fields = { oid_nonce: typeof nonce === 'string' ? nonce : '' };
      return this.firstFactor.attempt(l, http, method, fields, (message) =>
        this.firstFactor.render(l, message, 401),
      );
    });
  }
}
