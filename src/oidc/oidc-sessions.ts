import { Injectable } from '@nestjs/common';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { OidcPayloadEntity } from './oidc-payload.entity.js';

/** A stored oidc-provider `Session` artefact. */
export interface StoredSession {
  /** The artefact id (the session cookie's value). */
  id: string;
  payload: Record<string, unknown>;
  expires_at: Date | null;
}

/**
 * The provider's `Session` artefacts as other modules may see them: the live sessions of an
 * account, one by its uid, and removing one. The rows stay the oidc module's (oidc_payloads);
 * ending what a session opened is OidcPayloadStore's (revokeByGrantId, destroy, revokeAccount).
 */
@Injectable()
export class OidcSessions {
  constructor(
    @InjectTenantRepository(OidcPayloadEntity)
    private readonly payloads: TenantRepository<OidcPayloadEntity>,
  ) {}

  /** The account's sessions that have not expired. */
  ofAccount(tenantId: string, accountId: string): Promise<StoredSession[]> {
    return this.payloads
      .query(tenantId, 'p')
      .andWhere('p.model = :model', { model: 'Session' })
      .andWhere(`p.payload->>'accountId' = :accountId`, { accountId })
      .andWhere('(p.expires_at IS NULL OR p.expires_at > now())')
      .getMany();
  }

  /** The account's live grants (consent given to a client), any session or none. */
  grantsOfAccount(tenantId: string, accountId: string): Promise<StoredSession[]> {
    return this.payloads
      .query(tenantId, 'p')
      .andWhere('p.model = :model', { model: 'Grant' })
      .andWhere(`p.payload->>'accountId' = :accountId`, { accountId })
      .andWhere('(p.expires_at IS NULL OR p.expires_at > now())')
      .getMany();
  }

  byUid(tenantId: string, uid: string): Promise<StoredSession | null> {
    return this.payloads.findOne(tenantId, { model: 'Session', uid });
  }

  async remove(tenantId: string, id: string): Promise<void> {
    await this.payloads.delete(tenantId, { model: 'Session', id });
  }
}
