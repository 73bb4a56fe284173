/**
 * What a PostgreSQL constraint error means for the caller, without any HTTP: the API layer maps
 * it to a problem (src/common/problem.filter.ts), pages to a message.
 */
export type DatabaseViolation =
  | { kind: 'unique'; field: string }
  | { kind: 'reference' }
  | { kind: 'invalid-value' }
  | { kind: 'unavailable' };

/**
 * Unique-constraint names (fixed by the migrations) and the API field each protects. A new
 * unique index adds its line here.
 */
const UNIQUE_FIELDS: Readonly<Record<string, string>> = {
  tenants_pkey: 'tenant_id',
  api_keys_key_hash_key: 'api_key',
  users_tenant_username_key: 'username',
  users_tenant_email_key: 'email',
  users_tenant_external_id_key: 'external_id',
  users_pkey: 'user_id',
  passkey_credentials_tenant_credential_key: 'credential_id',
  user_totp_pkey: 'totp',
  clients_pkey: 'client_id',
  groups_tenant_name_key: 'name',
  groups_tenant_external_id_key: 'external_id',
};

/** Socket-level failures reaching the database (the pg driver, the pool). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);
/** PostgreSQL's own: connection exceptions (08), shutting down or starting (57P0x), too many clients. */
const UNAVAILABLE_SQLSTATES = /^(08\d{3}|57P0[1-4]|53300)$/;
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Connection is not established|Client has encountered a connection error|Cannot use a pool after calling end/i;

/**
 * Whether an error means the database cannot be reached right now: an expected state during an
 * outage or a failover, answered 503 and retried, never a bug.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (
    let e = error as
        { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown } | undefined,
      depth = 0;
    e && depth < 4;
    depth++
  ) {
    if (
      typeof e.code === 'string' &&
      (UNREACHABLE_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.test(e.code))
    )
      return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
    e = (e.driverError ?? e.cause) as typeof e;
  }
  return false;
}

/** Unique → the field in use; FK → a missing or still-used reference; bad text → invalid value. */
export function classifyDatabaseError(error: unknown): DatabaseViolation | undefined {
  if (isDatabaseUnavailable(error)) return { kind: 'unavailable' };
  const driverError = (error as { driverError?: { code?: string; constraint?: string } })
    ?.driverError;
  const code = driverError?.code;
  const constraint = driverError?.constraint;
  if (code === '23505')
    return { kind: 'unique', field: (constraint && UNIQUE_FIELDS[constraint]) ?? 'id' };
  if (code === '23503') return { kind: 'reference' };
  if (code === '22P02' || code === '22001' || code === '22021') return { kind: 'invalid-value' };
  return undefined;
}
