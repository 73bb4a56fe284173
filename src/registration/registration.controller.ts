import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  Inject,
  Param,
  Post,
  Put,
  Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RegistrationError } from './registration-metadata.js';
import { RegistrationService } from './registration.service.js';
import { ApiOAuthErrors, ApiProblems } from '../common/api-docs.js';

function bearerOf(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  return m?.[1];
}

/**
 * RFC 7591 registration and RFC 7592 management at `/{tenant_id}/register`. The answers are
 * OAuth JSON (`error`, `error_description`), as registration clients expect, not problems.
 * Authorised by the initial access token or the registration access token, checked in the
 * service, hence public to the API guard.
 */
@ApiTags('dynamic-registration')
@Controller(':tenant_id/register')
export class RegistrationController {
  constructor(
    private readonly registration: RegistrationService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Read per request: PUBLIC_URL may be settled only once the server listens (port 0). */
  private base(tenantId: string) {
    return `${this.config.publicUrl.replace(/\/$/, '')}/${tenantId}/register`;
  }

  private async answer<T>(reply: FastifyReply, status: number, work: () => Promise<T>) {
    reply.header('cache-control', 'no-store');
    try {
      const body = await work();
      reply.status(status);
      return body;
    } catch (err) {
      if (!(err instanceof RegistrationError)) throw err;
      reply.status(err.status);
      if (err.status === 401) reply.header('www-authenticate', `Bearer error="${err.error}"`);
      return { error: err.error, error_description: err.description };
    }
  }

  @Post()
  @Public()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Register a client (RFC 7591)',
    description:
      "Bearer: an initial access token, unless the tenant's dynamic_registration allows open registration. Off unless the tenant enables it (404).",
  })
  @ApiResponse({
    status: 201,
    description:
      'client_id, client_secret (confidential), registration_access_token, registration_client_uri',
  })
  @ApiOAuthErrors(
    [400, 'invalid_client_metadata or invalid_redirect_uri'],
    [401, 'invalid_token: the token is missing, unknown or revoked'],
  )
  @ApiProblems([404, 'unknown tenant, or its dynamic registration is off'])
  register(
    @Param('tenant_id') tenantId: string,
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer(reply, 201, () =>
      this.registration.register(tenantId, bearerOf(authorization), body, this.base(tenantId)),
    );
  }

  @Get(':client_id')
  @Public()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Read a registered client (RFC 7592); Bearer: its registration access token',
  })
  @ApiResponse({ status: 200, description: 'the registered metadata' })
  @ApiOAuthErrors([401, 'invalid_token: the token is missing, unknown or revoked'])
  @ApiProblems([404, 'unknown tenant, or its dynamic registration is off'])
  read(
    @Param('tenant_id') tenantId: string,
    @Param('client_id') clientId: string,
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer(reply, 200, () =>
      this.registration.read(
        tenantId,
        clientId,
        bearerOf(authorization),
        `${this.base(tenantId)}/${encodeURIComponent(clientId)}`,
      ),
    );
  }

  @Put(':client_id')
  @Public()
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Replace a registered client’s metadata (RFC 7592)' })
  @ApiResponse({ status: 200, description: 'the registered metadata' })
  @ApiOAuthErrors(
    [400, 'invalid_client_metadata or invalid_redirect_uri'],
    [401, 'invalid_token: the token is missing, unknown or revoked'],
  )
  @ApiProblems([404, 'unknown tenant, or its dynamic registration is off'])
  update(
    @Param('tenant_id') tenantId: string,
    @Param('client_id') clientId: string,
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer(reply, 200, () =>
      this.registration.update(
        tenantId,
        clientId,
        bearerOf(authorization),
        body,
        `${this.base(tenantId)}/${encodeURIComponent(clientId)}`,
      ),
    );
  }

  @Delete(':client_id')
  @Public()
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Delete a registered client (RFC 7592)' })
  @ApiResponse({ status: 204, description: 'deleted' })
  @ApiOAuthErrors([401, 'invalid_token: the token is missing, unknown or revoked'])
  @ApiProblems([404, 'unknown tenant, or its dynamic registration is off'])
  async remove(
    @Param('tenant_id') tenantId: string,
    @Param('client_id') clientId: string,
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return this.answer(reply, 204, () =>
      this.registration.remove(tenantId, clientId, bearerOf(authorization)),
    );
  }
}
