import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { auditContextOf } from '../../audit/audit.service.js';
import { Public } from '../../auth/auth.decorators.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import { fallbackBranding, tenantBranding } from '../kit/branding.js';
import { cookieHeader, readCookie } from '../kit/csrf.js';
import { PageErrorBoundary } from '../kit/page-errors.js';
import { form, type PageReply } from '../kit/page-reply.js';
import { policyOf, type PinPatternPolicy } from '../../pin-pattern/pin-pattern-policy.js';
import { AMR_OF, EamFlowService, pinPatternRequestId, type EamFlow } from './eam.flow.js';
import { eamForm, formPost } from './eam.views.js';

const COOKIE = 'idp_eam';
const FLOW_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * Entra ID external MFA: `/<t>/authorize` requests with `response_type=id_token` and an
 * `id_token_hint` are routed here by the OIDC mount (GET or form POST), then the seed's MFA form
 * at `/<t>/eam/<flow_id>`. The checked request travels in a sealed cookie bound to the flow id,
 * so the form works only in the browser Entra sent.
 */
@ApiExcludeController()
@Public()
@Controller(':tenant_id/eam')
export class EamController {
  private readonly boundary = new PageErrorBoundary('Sign in');

  constructor(
    private readonly flows: EamFlowService,
    private readonly tenants: TenantsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private cookie(tenantId: string, value: string, maxAge?: number) {
    return cookieHeader(COOKIE, value, {
      path: `${new URL(this.config.publicUrl).pathname.replace(/\/$/, '')}/${tenantId}/eam`,
      secure: this.config.publicUrl.startsWith('https:'),
      maxAge,
    });
  }

  private async branding(tenantId: string) {
    return (await tenantBranding(this.tenants, tenantId)) ?? fallbackBranding('Sign in');
  }

  /** The form's view of a flow: its methods, and the tenant's PIN/pattern policy when offered. */
  private async view(t: string, flowId: string, flow: EamFlow, error?: string) {
    let pinPattern:
      { policy: PinPatternPolicy; challenge: string; authenticate: string } | undefined;
    if (flow.methods.includes('pin_pattern')) {
      const policy = policyOf(await this.tenants.settings(t));
      const q = `?auth_req_id=${encodeURIComponent(pinPatternRequestId(flow))}`;
      const zkp = `${this.config.publicUrl.replace(/\/$/, '')}/${t}/authn/zkp`;
      if (policy)
        pinPattern = {
          policy,
          challenge: `${zkp}/challenge${q}`,
          authenticate: `${zkp}/authenticate${q}`,
        };
    }
    return {
      scripts: pinPattern ? ('wasm' as const) : flow.methods.includes('passkey'),
      html: eamForm(await this.branding(t), {
        action: `${this.config.publicUrl.replace(/\/$/, '')}/${t}/eam/${flowId}`,
        username: flow.username,
        methods: flow.methods,
        pinPattern,
        error,
      }),
    };
  }

  private async start(tenantId: string, params: Record<string, string>): Promise<PageReply> {
    const flow = await this.flows.start(tenantId, params);
    return {
      status: 303,
      location: `${this.config.publicUrl.replace(/\/$/, '')}/${tenantId}/eam/${flow.flowId}`,
      setCookie: this.cookie(tenantId, this.flows.seal(flow), 600),
    };
  }

  @Get('authorize')
  authorizeGet(
    @Param('tenant_id') t: string,
    @Query() q: Record<string, string>,
    @Res() r: FastifyReply,
  ) {
    return this.boundary.reply(r, () => this.start(t, q));
  }

  @Post('authorize')
  authorizePost(@Param('tenant_id') t: string, @Body() body: unknown, @Res() r: FastifyReply) {
    return this.boundary.reply(r, () => this.start(t, form(body)));
  }

  @Get(':flow_id')
  show(
    @Param('tenant_id') t: string,
    @Param('flow_id') flowId: string,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.boundary.reply(r, async () => {
      const flow = this.flows.open(
        t,
        FLOW_ID.test(flowId) ? flowId : '',
        readCookie(req.headers.cookie, COOKIE),
      );
      return { status: 200, ...(await this.view(t, flowId, flow)) };
    });
  }

  @Post(':flow_id/passkey-options')
  passkeyOptions(
    @Param('tenant_id') t: string,
    @Param('flow_id') flowId: string,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.boundary.reply(r, async (): Promise<PageReply> => {
      const flow = this.flows.open(
        t,
        FLOW_ID.test(flowId) ? flowId : '',
        readCookie(req.headers.cookie, COOKIE),
      );
      return { status: 200, json: await this.flows.passkeyOptions(flow) };
    });
  }

  @Post(':flow_id')
  verify(
    @Param('tenant_id') t: string,
    @Param('flow_id') flowId: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() r: FastifyReply,
  ) {
    return this.boundary.reply(r, async (): Promise<PageReply> => {
      const flow = this.flows.open(
        t,
        FLOW_ID.test(flowId) ? flowId : '',
        readCookie(req.headers.cookie, COOKIE),
      );
      const f = form(body);
      const method =
        f.method === 'passkey' ? 'passkey' : f.method === 'pin_pattern' ? 'pin_pattern' : 'totp';
      const ip = auditContextOf(req).ip;
      let amr: string[] | false | 'blocked';
      if (method === 'pin_pattern') {
        amr = await this.flows.verifyPinPattern(flow, f.oid_nonce, ip);
      } else {
        const passed =
          method === 'passkey'
            ? await this.flows.verifyPasskey(flow, f.challenge_id, f.response, ip)
            : await this.flows.verify(flow, f.code, ip);
        amr = passed === true ? [...AMR_OF[method]] : passed;
      }
      if (amr === false || amr === 'blocked') {
        const error =
          amr === 'blocked'
            ? 'Too many attempts. Try again later.'
            : method === 'passkey'
              ? 'The passkey could not be verified.'
              : method === 'pin_pattern'
                ? 'The PIN or pattern is incorrect.'
                : 'The code is wrong or was already used.';
        return {
          status: amr === 'blocked' ? 429 : 401,
          ...(await this.view(t, flowId, flow, error)),
        };
      }
      const idToken = await this.flows.idToken(flow, method, amr);
      return {
        status: 200,
        html: formPost(await this.branding(t), flow.redirectUri, {
          id_token: idToken,
          ...(flow.state !== undefined ? { state: flow.state } : {}),
        }),
        setCookie: this.cookie(t, '', 0),
      };
    });
  }
}
