import { Injectable } from '@nestjs/common';
import { In, LessThan } from 'typeorm';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { page, type ListQuery, type Page } from '../common/pagination.js';
import { notFound } from '../common/problem.js';
import { OidcPayloadStore } from '../oidc/oidc-payload.store.js';
import { OidcSessions } from '../oidc/oidc-sessions.js';
import { LogoutPropagation } from '../oidc/logout-propagation.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { isUuid } from '../common/ids.js';
import type { SessionDto } from './dto/session.dto.js';
import { SessionEvents } from './session-events.js';
import { SessionSignInEntity } from './session-sign-in.entity.js';

/** The artefacts a grant issues; revoking a session deletes them by grant id. */
export const GRANT_MODELS = [
  'AuthorizationCode',
  'AccessToken',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
];
const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Tries to find a login second free for this account before giving up on exactness. */
const TS_PROBES = 5;

interface SessionPayload {
  uid?: string;
  accountId?: string;
  loginTs?: number;
  exp?: number;
  iat?: number;
  authorizations?: Record<string, { grantId?: string; sid?: string }>;
}

export interface SessionView extends SessionDto {
  /** The session's login time, the link to its sign-in row. */
  login_ts: number | null;
}

/**
 * The signed-in user's OIDC sessions (oidc-provider `Session` artefacts in oidc_payloads) with
 * where they signed in from. Ending a session deletes it with every grant it opened, so the
 * access and refresh tokens of those grants stop working at once.
 */
@Injectable()
export class SessionsService {
  constructor(
    @InjectTenantRepository(SessionSignInEntity)
    private readonly signIns: TenantRepository<SessionSignInEntity>,
    private readonly store: OidcPayloadStore,
    private readonly sessions: OidcSessions,
    private readonly tenants: TenantsService,
    private readonly logout: LogoutPropagation,
    private readonly events: SessionEvents,
  ) {}

  /**
   * Called when the hosted login finishes a sign-in: answers the login time to hand to
   * oidc-provider (`login.ts`), unique for the account, so the session it creates can be
   * matched to this row.
   */
  async recordSignIn(
    tenantId: string,
    accountId: string,
    ip: string | null,
    userAgent: string | null,
  ): Promise<number> {
    const now = new Date();
    const second = Math.floor(now.getTime() / 1000);
    // The newest free second of the last TS_PROBES, in one statement; a concurrent sign-in of
    // the same account may take it first (nothing inserted): then look again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const rows = await this.signIns.sql<{ login_ts: string }>(
        tenantId,
        'session_sign_in_record',
        `INSERT INTO session_sign_ins
           (tenant_id, account_id, login_ts, ip, user_agent, created_at, last_seen_at)
         SELECT $1, $2, c.ts, $4, $5, $6::timestamptz, $6::timestamptz
         FROM generate_series(0, $7::int - 1) AS i, LATERAL (SELECT $3::bigint - i AS ts) c
         WHERE NOT EXISTS (SELECT 1 FROM session_sign_ins s
                           WHERE s.tenant_id = $1 AND s.account_id = $2 AND s.login_ts = c.ts)
         ORDER BY i LIMIT 1
         ON CONFLICT DO NOTHING
         RETURNING login_ts`,
        [
          accountId,
          second,
          ip?.slice(0, 100) ?? null,
          userAgent?.slice(0, 512) ?? null,
          now.toISOString(),
          TS_PROBES,
        ],
      );
      if (rows.length) {
        if (second % 16 === 0) await this.purgeStale(tenantId, accountId);
        return Number(rows[0].login_ts);
      }
    }
    return second;
  }

  /** Rows whose session is long gone (older than the longest a session can live). */
  private async purgeStale(tenantId: string, accountId: string) {
    const { session_ttl } = await this.tenants.settings(tenantId);
    await this.signIns.delete(tenantId, {
      account_id: accountId,
      created_at: LessThan(new Date(Date.now() - session_ttl * 1000)),
    });
  }

  async views(tenantId: string, accountId: string): Promise<SessionView[]> {
    if (!isUuid(accountId)) return [];
    const rows = await this.sessions.ofAccount(tenantId, accountId);
    const stamps = rows
      .map((r) => (r.payload as SessionPayload).loginTs)
      .filter((ts): ts is number => typeof ts === 'number');
    const signIns = stamps.length
      ? await this.signIns.find(tenantId, {
          where: { account_id: accountId, login_ts: In(stamps.map(String)) },
        })
      : [];
    const byTs = new Map(signIns.map((s) => [Number(s.login_ts), s]));
    const { session_ttl } = await this.tenants.settings(tenantId);
    const views = rows.map((r): SessionView => {
      const p = r.payload as SessionPayload;
      const meta = typeof p.loginTs === 'number' ? byTs.get(p.loginTs) : undefined;
      const created = meta?.created_at ?? new Date((p.loginTs ?? p.iat ?? 0) * 1000);
      // A session is saved with the full TTL each time it authorizes a client.
      const saved = p.exp ? (p.exp - session_ttl) * 1000 : 0;
      const lastSeen = Math.max(created.getTime(), meta?.last_seen_at.getTime() ?? 0, saved);
      return {
        session_id: p.uid ?? r.id,
        created_at: created.toISOString(),
        last_seen_at: new Date(lastSeen).toISOString(),
        ip: meta?.ip ?? null,
        user_agent: meta?.user_agent ?? null,
        client_ids: Object.keys(p.authorizations ?? {}).toSorted(),
        expires_at: (r.expires_at ?? new Date((p.exp ?? 0) * 1000)).toISOString(),
        login_ts: p.loginTs ?? null,
      };
    });
    return views.toSorted((a, b) => b.last_seen_at.localeCompare(a.last_seen_at));
  }

  async list(tenantId: string, accountId: string, q: ListQuery): Promise<Page<SessionDto>> {
    const all = (await this.views(tenantId, accountId)).map(({ login_ts: _ts, ...dto }) => dto);
    if (q.sort_direction === 1) all.reverse();
    return page(all.slice(q.offset, q.offset + q.limit), all.length, q);
  }

  /** The account page marks its own session as seen. */
  async touch(tenantId: string, accountId: string, loginTs: number | undefined): Promise<void> {
    if (typeof loginTs !== 'number') return;
    await this.signIns.update(
      tenantId,
      { account_id: accountId, login_ts: String(loginTs) },
      { last_seen_at: new Date() },
    );
  }

  /** Ends one session of the user and every grant (and so token) it opened. */
  async revoke(tenantId: string, accountId: string, sessionId: string): Promise<void> {
    const row =
      SESSION_ID.test(sessionId) && isUuid(accountId)
        ? await this.sessions.byUid(tenantId, sessionId)
        : null;
    const p = row?.payload as SessionPayload | undefined;
    if (!row || p?.accountId !== accountId) throw notFound('Session');
    await this.sessions.remove(tenantId, row.id);
    const grantIds = Object.values(p.authorizations ?? {})
      .map((a) => a.grantId)
      .filter((g): g is string => typeof g === 'string');
    for (const grantId of grantIds) {
      for (const model of GRANT_MODELS) await this.store.revokeByGrantId(tenantId, model, grantId);
      await this.store.destroy(tenantId, 'Grant', grantId);
    }
    if (typeof p.loginTs === 'number')
      await this.signIns.delete(tenantId, { account_id: accountId, login_ts: String(p.loginTs) });
    await this.logout.sessionsEnded(tenantId, [row]);
    await this.events.emit({ tenantId, accountId, uid: sessionId });
  }

  /** Ends every session of the user, with every grant and token they hold; apps are told. */
  async revokeAll(tenantId: string, accountId: string): Promise<number> {
    if (!isUuid(accountId)) return 0;
    const sessions = await this.logout.endAccount(tenantId, accountId);
    await this.signIns.delete(tenantId, { account_id: accountId });
    await this.events.emit({ tenantId, accountId });
    return sessions;
  }
}
