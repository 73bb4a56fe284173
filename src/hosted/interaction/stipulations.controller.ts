import { Body, Controller, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../auth/auth.decorators.js';
import { form, pageRequest, type PageResult } from '../kit/page-reply.js';
import { PageErrorBoundary } from '../kit/page-errors.js';
import { StipulationsStep } from './stipulations.step.js';

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** The ceremony's JSON answer as the page script posts it; anything else is no answer. */
function parseResponse(raw: unknown): unknown {
  if (typeof raw !== 'string' || !raw || raw.length >= 64 * 1024) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/** The posts of the stipulation pages (HTML, not part of the JSON API). */
@ApiExcludeController()
@Public()
@Controller(':tenant_id/interaction/:uid/stipulation')
export class StipulationsController {
  constructor(private readonly step: StipulationsStep) {}

  private readonly boundary = new PageErrorBoundary('Sign in');

  private run(reply: FastifyReply, run: () => Promise<PageResult>) {
    return this.boundary.reply(reply, run);
  }

  @Post('terms')
  terms(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.step.submit(tenantId, uid, form(body), pageRequest(req, reply), {
        rule: 'accepted_terms',
        accept_terms: form(body).accept === 'yes',
      }),
    );
  }

  @Post('password')
  password(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.step.submit(tenantId, uid, form(body), pageRequest(req, reply), {
        rule: 'password_changed_after_reset',
        new_password: str(form(body).new_password),
        confirm_password: str(form(body).confirm_password),
      }),
    );
  }

  @Post('passkey-options')
  passkeyOptions(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.step.passkeyOptions(tenantId, uid, form(body), pageRequest(req, reply)),
    );
  }

  @Post('passkey')
  passkey(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.step.submit(tenantId, uid, form(body), pageRequest(req, reply), {
        rule: 'passkey',
        passkey: {
          challenge_id: str(form(body).challenge_id),
          response: parseResponse(form(body).response),
        },
      }),
    );
  }

  @Post('verify-email')
  verifyEmail(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.step.submit(tenantId, uid, form(body), pageRequest(req, reply), {
        rule: 'verified_email',
      }),
    );
  }

  @Post('verify-email/resend')
  resend(
    @Param('tenant_id') tenantId: string,
    @Param('uid') uid: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    return this.run(reply, () =>
      this.step.submit(tenantId, uid, form(body), pageRequest(req, reply), {
        rule: 'verified_email',
        resend_verification: true,
      }),
    );
  }
}
