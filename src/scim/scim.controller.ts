import {
  All,
  Controller,
  createParamDecorator,
  type ExecutionContext,
  Delete,
  Get,
  Headers,
  Param,
  Patch,
  Post,
  Put,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditService, requestContextOf } from '../audit/audit.service.js';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/scopes.js';
import { requireMessageSchema } from './scim.document.js';
import { ScimError, ScimExceptionFilter } from './scim.errors.js';
import { SCIM, send } from './scim.reply.js';
import { notModified, parseListParams, projectionOf } from './scim.request.js';
import { etagOf } from './scim-users.mapper.js';
import { bulkAudit, scimAudit } from './scim-bulk-audit.js';
import { ScimBulkService, type Method } from './scim-bulk.service.js';
import { ScimGroupsService } from './scim-groups.service.js';
import { ScimUsersService, type Written } from './scim-users.service.js';
import { ApiScim } from '../common/api-docs.js';
import { Idempotent } from '../idempotency/idempotency.interceptor.js';

type QueryParams = Record<string, unknown>;

/**
 * The raw body and query: SCIM documents are validated by the SCIM schemas, not by the global
 * DTO pipe (which would refuse every SCIM query parameter as an unknown field).
 */
const Body = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): unknown =>
    ctx.switchToHttp().getRequest<{ body?: unknown }>().body,
);
const Query = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): QueryParams =>
    (ctx.switchToHttp().getRequest<{ query?: QueryParams }>().query ?? {}) as QueryParams,
);
const SEARCH_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

type Resource = 'user' | 'group';

function sendResource(reply: FastifyReply, status: number, w: Written, location?: string) {
  send(reply, status, w.resource, {
    etag: etagOf(w.version),
    ...(location ? { location } : {}),
  });
}

/**
 * SCIM 2.0 service provider of a tenant (RFC 7643/7644) at /<tenant_id>/scim/v2. The param is
 * named tenant_id so the global guard fences tenant keys; every error, the guard's included,
 * is answered in the SCIM Error schema by the controller's filter.
 */
@ApiTags('scim')
@UseFilters(ScimExceptionFilter)
@Controller(':tenant_id/scim/v2')
export class ScimController {
  constructor(
    private readonly users: ScimUsersService,
    private readonly groups: ScimGroupsService,
    private readonly bulk: ScimBulkService,
    private readonly audit: AuditService,
  ) {}

  /**
   * Runs a SCIM write with its event (scim.user.created, scim.group.deleted...; the SCIM
   * client's key is the actor) staged in the request's audit scope, so the change's own commit
   * carries it and a refused write has none (decision 0023). `subjectId` null: a create, named
   * by the row it inserts.
   */
  private async audited<T>(
    tenantId: string,
    req: FastifyRequest,
    principal: Principal,
    target: { resource: Resource; method: Method; subjectId: string | null; operation: string },
    run: () => Promise<T>,
    outcome: (result: T) => { id: string; details?: Record<string, unknown> },
  ): Promise<T> {
    const entry = scimAudit(this.audit, tenantId, requestContextOf(req, principal), () => ({
      operation: target.operation,
    })).begin(target.resource, target.method, target.subjectId);
    let result: T;
    try {
      result = await run();
    } catch (err) {
      await entry.failed();
      throw err;
    }
    const { id, details } = outcome(result);
    await entry.ok(id, details);
    return result;
  }

  /** What a user write changed that matters to security: whether the account is active. */
  private static userOutcome(w: Written): { id: string; details: Record<string, unknown> } {
    const active = (w.resource as { active?: unknown }).active;
    return { id: w.id, details: typeof active === 'boolean' ? { active } : {} };
  }

  // ---- /Me: the user an API key acts as

  @Get('Me')
  @ApiOperation({ summary: 'Get the calling user as a SCIM User' })
  @ApiScim({ status: 200, description: 'the User resource' }, 404)
  @Authenticated({ scope: 'scim', holders: ['user', 'tenant', 'operator'] })
  async me(
    @Param('tenant_id') tenantId: string,
    @CurrentPrincipal() principal: Principal,
    @Query() q: QueryParams,
    @Res() reply: FastifyReply,
  ) {
    if (!principal.userId)
      throw new ScimError(404, 'This credential does not act as a user: /Me has no target');
    sendResource(reply, 200, await this.users.get(tenantId, principal.userId, projectionOf(q)));
  }

  // ---- Users

  @Post('Users')
  @ApiOperation({ summary: 'Create a SCIM User' })
  @ApiScim({ status: 201, description: 'the created User, with Location and ETag' }, 400, 404, 409)
  @Authenticated(SCIM)
  async createUser(
    @Param('tenant_id') tenantId: string,
    @Body() body: unknown,
    @Res() reply: FastifyReply,
    @Req() req: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    const w = await this.audited(
      tenantId,
      req,
      principal,
      { resource: 'user', method: 'POST', subjectId: null, operation: 'create' },
      () => this.users.create(tenantId, body),
      ScimController.userOutcome,
    );
    sendResource(reply, 201, w, `${this.users.base(tenantId)}/Users/${w.id}`);
  }

  @Get('Users')
  @ApiOperation({ summary: 'List or filter SCIM Users' })
  @ApiScim({ status: 200, description: 'a ListResponse of Users' }, 400, 404)
  @Authenticated(SCIM)
  async listUsers(
    @Param('tenant_id') tenantId: string,
    @Query() q: QueryParams,
    @Res() reply: FastifyReply,
  ) {
    send(reply, 200, await this.users.list(tenantId, parseListParams(q)));
  }

  @Post('Users/.search')
  @ApiOperation({ summary: 'Search SCIM Users (POST .search)' })
  @ApiScim({ status: 200, description: 'a ListResponse of Users' }, 400, 404)
  @Authenticated(SCIM)
  async searchUsers(
    @Param('tenant_id') tenantId: string,
    @Body() body: unknown,
    @Res() reply: FastifyReply,
  ) {
    const req = requireMessageSchema(body, SEARCH_REQUEST);
    send(reply, 200, await this.users.list(tenantId, parseListParams(req)));
  }

  @Get('Users/:id')
  @ApiOperation({ summary: 'Get a SCIM User' })
  @ApiScim(
    { status: 200, description: 'the User, with ETag (304 when If-None-Match matches)' },
    404,
  )
  @Authenticated(SCIM)
  async getUser(
    @Param('tenant_id') tenantId: string,
    @Param('id') id: string,
    @Query() q: QueryParams,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() reply: FastifyReply,
  ) {
    const w = await this.users.get(tenantId, id, projectionOf(q));
    if (notModified(ifNoneMatch, w.version))
      return send(reply, 304, undefined, { etag: etagOf(w.version) });
    sendResource(reply, 200, w);
  }

  @Put('Users/:id')
  @ApiOperation({ summary: 'Replace a SCIM User' })
  @ApiScim({ status: 200, description: 'the replaced User, with ETag' }, 400, 404, 409, 412)
  @Authenticated(SCIM)
  async replaceUser(
    @Param('tenant_id') tenantId: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res() reply: FastifyReply,
    @Req() req: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    const w = await this.audited(
      tenantId,
      req,
      principal,
      { resource: 'user', method: 'PUT', subjectId: id.toLowerCase(), operation: 'replace' },
      () => this.users.replace(tenantId, id, body, ifMatch),
      ScimController.userOutcome,
    );
    sendResource(reply, 200, w);
  }

  @Patch('Users/:id')
  @ApiOperation({ summary: 'Patch a SCIM User' })
  @ApiScim({ status: 200, description: 'the patched User, with ETag' }, 400, 404, 409, 412)
  @Authenticated(SCIM)
  async patchUser(
    @Param('tenant_id') tenantId: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res() reply: FastifyReply,
    @Req() req: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    const w = await this.audited(
      tenantId,
      req,
      principal,
      { resource: 'user', method: 'PATCH', subjectId: id.toLowerCase(), operation: 'patch' },
      () => this.users.patch(tenantId, id, body, ifMatch),
      ScimController.userOutcome,
    );
    sendResource(reply, 200, w);
  }

  @Delete('Users/:id')
  @ApiOperation({ summary: 'Delete a SCIM User' })
  @ApiScim({ status: 204, description: 'deleted' }, 404, 412)
  @Authenticated(SCIM)
  async deleteUser(
    @Param('tenant_id') tenantId: string,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res() reply: FastifyReply,
    @Req() req: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    await this.audited(
      tenantId,
      req,
      principal,
      { resource: 'user', method: 'DELETE', subjectId: id.toLowerCase(), operation: 'delete' },
      () => this.users.remove(tenantId, id, ifMatch),
      () => ({ id: id.toLowerCase() }),
    );
    send(reply, 204);
  }

  // ---- Groups

  @Post('Groups')
  @ApiOperation({ summary: 'Create a SCIM Group' })
  @ApiScim({ status: 201, description: 'the created Group, with Location and ETag' }, 400, 404, 409)
  @Authenticated(SCIM)
  async createGroup(
    @Param('tenant_id') tenantId: string,
    @Body() body: unknown,
    @Res() reply: FastifyReply,
    @Req() req: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    const w = await this.audited(
      tenantId,
      req,
      principal,
      { resource: 'group', method: 'POST', subjectId: null, operation: 'create' },
      () => this.groups.create(tenantId, body),
      (g) => ({ id: g.id }),
    );
    sendResource(reply, 201, w, `${this.groups.base(tenantId)}/Groups/${w.id}`);
  }

  @Get('Groups')
  @ApiOperation({ summary: 'List or filter SCIM Groups' })
  @ApiScim({ status: 200, description: 'a ListResponse of Groups' }, 400, 404)
  @Authenticated(SCIM)
  async listGroups(
    @Param('tenant_id') tenantId: string,
    @Query() q: QueryParams,
    @Res() reply: FastifyReply,
  ) {
    send(reply, 200, await this.groups.list(tenantId, parseListParams(q)));
  }

  @Post('Groups/.search')
  @ApiOperation({ summary: 'Search SCIM Groups (POST .search)' })
  @ApiScim({ status: 200, description: 'a ListResponse of Groups' }, 400, 404)
  @Authenticated(SCIM)
  async searchGroups(
    @Param('tenant_id') tenantId: string,
    @Body() body: unknown,
    @Res() reply: FastifyReply,
  ) {
    const req = requireMessageSchema(body, SEARCH_REQUEST);
    send(reply, 200, await this.groups.list(tenantId, parseListParams(req)));
  }

  @Get('Groups/:id')
  @ApiOperation({ summary: 'Get a SCIM Group' })
  @ApiScim(
    { status: 200, description: 'the Group, with ETag (304 when If-None-Match matches)' },
    404,
  )
  @Authenticated(SCIM)
  async getGroup(
    @Param('tenant_id') tenantId: string,
    @Param('id') id: string,
    @Query() q: QueryParams,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() reply: FastifyReply,
  ) {
    const w = await this.groups.get(tenantId, id, projectionOf(q));
    if (notModified(ifNoneMatch, w.version))
      return send(reply, 304, undefined, { etag: etagOf(w.version) });
    sendResource(reply, 200, w);
  }

  @Put('Groups/:id')
  @ApiOperation({ summary: 'Replace a SCIM Group' })
  @ApiScim({ status: 200, description: 'the replaced Group, with ETag' }, 400, 404, 409, 412)
  @Authenticated(SCIM)
  async replaceGroup(
    @Param('tenant_id') tenantId: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res() reply: FastifyReply,
    @Req() req: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    const w = await this.audited(
      tenantId,
      req,
      principal,
      { resource: 'group', method: 'PUT', subjectId: id.toLowerCase(), operation: 'replace' },
      () => this.groups.replace(tenantId, id, body, ifMatch),
      (g) => ({ id: g.id }),
    );
    sendResource(reply, 200, w);
  }

  /** 204 unless the client asks for attributes back: Entra sends membership changes one by one. */
  @Patch('Groups/:id')
  @ApiOperation({ summary: 'Patch a SCIM Group' })
  @ApiScim({ status: 200, description: 'the patched Group, with ETag' }, 400, 404, 409, 412)
  @Authenticated(SCIM)
  async patchGroup(
    @Param('tenant_id') tenantId: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @Query() q: QueryParams,
    @Headers('if-match') ifMatch: string | undefined,
    @Res() reply: FastifyReply,
    @Req() req: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    const projection = projectionOf(q);
    const wantsBody = Boolean(projection.attributes || projection.excluded);
    const w = await this.audited(
      tenantId,
      req,
      principal,
      { resource: 'group', method: 'PATCH', subjectId: id.toLowerCase(), operation: 'patch' },
      () => this.groups.patch(tenantId, id, body, ifMatch, wantsBody),
      (g) => ({ id: g.id }),
    );
    if (!wantsBody) return send(reply, 204, undefined, { etag: etagOf(w.version) });
    sendResource(reply, 200, await this.groups.get(tenantId, id, projection));
  }

  @Delete('Groups/:id')
  @ApiOperation({ summary: 'Delete a SCIM Group' })
  @ApiScim({ status: 204, description: 'deleted' }, 404, 412)
  @Authenticated(SCIM)
  async deleteGroup(
    @Param('tenant_id') tenantId: string,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res() reply: FastifyReply,
    @Req() req: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    await this.audited(
      tenantId,
      req,
      principal,
      { resource: 'group', method: 'DELETE', subjectId: id.toLowerCase(), operation: 'delete' },
      () => this.groups.remove(tenantId, id, ifMatch),
      () => ({ id: id.toLowerCase() }),
    );
    send(reply, 204);
  }

  // ---- Bulk

  @Post('Bulk')
  @ApiOperation({ summary: 'Run SCIM bulk operations' })
  // 409/422 (Idempotency-Key): @Idempotent describes them, the SCIM filter renders them
  @ApiScim(
    { status: 200, description: 'a BulkResponse: one result per operation' },
    400,
    404,
    413,
    [409, ''],
    [422, ''],
  )
  @Authenticated(SCIM)
  @Idempotent({ answersItself: true })
  async runBulk(
    @Param('tenant_id') tenantId: string,
    @Body() body: unknown,
    @Res() reply: FastifyReply,
    @Req() req: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ) {
    const answer = await this.bulk.run(
      tenantId,
      body,
      bulkAudit(this.audit, tenantId, requestContextOf(req, principal)),
    );
    send(reply, 200, answer);
  }

  /** Anything else under the SCIM base is a SCIM 404, not the platform's problem+json. */
  @All('*')
  @Authenticated(SCIM)
  @ApiExcludeEndpoint()
  unknown() {
    throw new ScimError(404, 'No such SCIM endpoint');
  }
}
