import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { IsNull, LessThan, Raw } from 'typeorm';
import { InjectTenantRepository, TenantRepository } from '../../libs/tenancy/index.js';
import { UUID_PATTERN as UUID } from '../common/ids.js';
import { webauthnFailed } from './passkey-values.js';
import { WebauthnChallengeEntity, type ChallengePurpose } from './passkey.entities.js';

/** How long a ceremony may take, from options to the authenticator's answer. */
export const CHALLENGE_TTL_MS = 5 * 60_000;

/** The challenges of WebAuthn ceremonies: issued once, spent once, within five minutes. */
@Injectable()
export class WebauthnChallenges {
  private issued = 0;

  constructor(
    @InjectTenantRepository(WebauthnChallengeEntity)
    private readonly challenges: TenantRepository<WebauthnChallengeEntity>,
  ) {}

  /** Stores a fresh challenge of a ceremony; answers the id the browser sends back with it. */
  async issue(
    tenantId: string,
    challenge: string,
    purpose: ChallengePurpose,
    userId: string | null,
  ): Promise<string> {
    const challengeId = randomUUID();
    await this.challenges.insert(tenantId, {
      challenge_id: challengeId,
      challenge,
      purpose,
      user_id: userId,
      expires_at: new Date(Date.now() + CHALLENGE_TTL_MS),
      consumed_at: null,
    });
    // Old challenges are useless; sweep the tenant's now and then instead of running a job.
    this.issued += 1;
    if (this.issued % 50 === 0) {
      await this.challenges.delete(tenantId, {
        expires_at: LessThan(new Date(Date.now() - 3_600_000)),
      });
    }
    return challengeId;
  }

  /**
   * Spends a challenge: the conditional UPDATE is the claim, so of two requests presenting one
   * challenge only one proceeds, and never after five minutes.
   */
  async claim(
    tenantId: string,
    challengeId: unknown,
    purpose: ChallengePurpose,
  ): Promise<WebauthnChallengeEntity> {
    const unusable = webauthnFailed('The challenge is unknown, expired or already used');
    if (typeof challengeId !== 'string' || !UUID.test(challengeId)) throw unusable;
    const row = await this.challenges.findOne(tenantId, { challenge_id: challengeId, purpose });
    if (!row) throw unusable;
    const claimed = await this.challenges.update(
      tenantId,
      {
        challenge_id: challengeId,
        purpose,
        consumed_at: IsNull(),
        expires_at: Raw((col) => `${col} > now()`),
      },
      { consumed_at: new Date() },
    );
    if (claimed !== 1) throw unusable;
    return row;
  }
}
