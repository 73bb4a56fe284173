import { Injectable } from '@nestjs/common';
import { AuditService, type AuditContext } from '../audit/audit.service.js';
import { ClientsService } from '../clients/clients.service.js';
import { isDomainError } from '../common/domain-error.js';
import { isUuid } from '../common/ids.js';
import { page, type ListQuery, type Page } from '../common/pagination.js';
import { notFound } from '../common/problem.js';
import { OidcPayloadStore } from '../oidc/oidc-payload.store.js';
import { OidcSessions } from '../oidc/oidc-sessions.js';
import type { MyAppDto } from './dto/my-app.dto.js';
import { GRANT_MODELS } from './sessions.service.js';

interface GrantPayload {
  clientId?: string;
  iat?: number;
  openid?: { scope?: string };
}

/**
 * The apps a user has given consent to (oidc-provider `Grant` artefacts), and taking that
 * consent back: every grant of the client ends with its codes, access and refresh tokens, and
 * the next sign-in to the app asks for consent again.
 */
@Injectable()
export class MyAppsService {
  constructor(
    private readonly sessions: OidcSessions,
    private readonly store: OidcPayloadStore,
    private readonly clients: ClientsService,
    private readonly audit: AuditService,
  ) {}

  private async grantsByClient(tenantId: string, userId: string) {
    const byClient = new Map<string, { ids: string[]; scopes: Set<string>; since: number }>();
    if (!isUuid(userId)) return byClient;
    for (const row of await this.sessions.grantsOfAccount(tenantId, userId)) {
      const p = row.payload as GrantPayload;
      if (typeof p.clientId !== 'string') continue;
      const entry = byClient.get(p.clientId) ?? { ids: [], scopes: new Set(), since: Infinity };
      entry.ids.push(row.id);
      for (const s of (p.openid?.scope ?? '').split(' ')) if (s) entry.scopes.add(s);
      entry.since = Math.min(entry.since, p.iat ?? Infinity);
      byClient.set(p.clientId, entry);
    }
    return byClient;
  }

  async list(tenantId: string, userId: string, q: ListQuery): Promise<Page<MyAppDto>> {
    const all: MyAppDto[] = [];
    for (const [clientId, g] of await this.grantsByClient(tenantId, userId)) {
      const client = await this.clients.get(tenantId, clientId).catch((err: unknown) => {
        if (isDomainError(err) && err.kind === 'not-found') return undefined;
        throw err;
      });
      all.push({
        client_id: clientId,
        name: client?.name ?? null,
        logo_uri: client?.logo_uri ?? null,
        client_uri: client?.client_uri ?? null,
        scopes: [...g.scopes].toSorted(),
        granted_at: Number.isFinite(g.since) ? new Date(g.since * 1000).toISOString() : null,
      });
    }
    all.sort((a, b) => a.client_id.localeCompare(b.client_id));
    if (q.sort_direction === -1) all.reverse();
    return page(all.slice(q.offset, q.offset + q.limit), all.length, q);
  }

  async revoke(tenantId: string, userId: string, clientId: string, ctx: AuditContext) {
    const g = (await this.grantsByClient(tenantId, userId)).get(clientId);
    if (!g) throw notFound('App', 'No consent to this client');
    for (const grantId of g.ids) {
      for (const model of GRANT_MODELS) await this.store.revokeByGrantId(tenantId, model, grantId);
      await this.store.destroy(tenantId, 'Grant', grantId);
    }
    this.audit.record({
      tenantId,
      type: 'user.app_revoked',
      actorType: 'user',
      actorId: userId,
      subjectType: 'user',
      subjectId: userId,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      details: { client_id: clientId, grants: g.ids.length },
    });
  }
}
