import type { DataSource } from 'typeorm';

export interface SeedOptions {
  tenantId: string;
  events: number;
  /** Events spread evenly (with jitter) over [from, from + days). */
  from: Date;
  days: number;
  users: number;
}

/**
 * Seeds sign-in events straight into audit_events with one INSERT ... SELECT (a million rows in
 * seconds): 80% successes, methods password/totp/passkey/pin, `users` distinct users.
 * Deterministic: the same options give the same history.
 */
export async function seedLoginEvents(db: DataSource, o: SeedOptions): Promise<void> {
  const spanSeconds = o.days * 86_400;
  await db.query(
    `INSERT INTO audit_events (tenant_id, event_id, occurred_at, type, actor_type, subject_type,
       subject_id, ip, user_agent, outcome, method, details)
     SELECT $1,
            md5($1 || i::text)::uuid,
            $2::timestamptz + (floor((i::double precision / $3) * $4) + (abs(hashint4(i)) % 1000) / 1000.0) * interval '1 second',
            CASE WHEN abs(hashint4(i * 7)) % 10 < 8 THEN 'login.success' ELSE 'login.failure' END,
            'system', 'user',
            'user-' || (abs(hashint4(i * 13)) % $5)::text,
            '10.' || (i % 250)::text || '.' || (i % 199)::text || '.1',
            'bench',
            CASE WHEN abs(hashint4(i * 7)) % 10 < 8 THEN 'success' ELSE 'failure' END,
            (ARRAY['password', 'password', 'totp', 'passkey', 'pin'])[1 + abs(hashint4(i * 31)) % 5],
            '{}'::jsonb
     FROM generate_series(0, $3 - 1) AS i`,
    [o.tenantId, o.from.toISOString(), o.events, spanSeconds, o.users],
  );
}
