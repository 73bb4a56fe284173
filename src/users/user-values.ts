import type { UserDto } from './dto/user.dto.js';
import type { UserEntity } from './user.entity.js';

/** The fields an admin (API or SCIM) may write on a user. */
export const EDITABLE = [
  'email',
  'is_verified',
  'is_disabled',
  'locale',
  'roles',
  'external_id',
  'display_name',
  'given_name',
  'family_name',
  'picture',
] as const;
export const DEFAULTS: Pick<UserEntity, (typeof EDITABLE)[number]> = {
  email: null,
  is_verified: false,
  is_disabled: false,
  locale: null,
  roles: [],
  external_id: null,
  display_name: null,
  given_name: null,
  family_name: null,
  picture: null,
};

export function toUserDto(u: UserEntity): UserDto {
  return {
    user_id: u.user_id,
    tenant_id: u.tenant_id,
    username: u.username,
    email: u.email,
    is_disabled: u.is_disabled,
    is_verified: u.is_verified,
    locale: u.locale,
    roles: u.roles ?? [],
    external_id: u.external_id,
    display_name: u.display_name,
    given_name: u.given_name,
    family_name: u.family_name,
    picture: u.picture,
    has_password: u.password_hash !== null,
    password_change_required: u.password_change_required ?? false,
    terms_accepted_version: u.terms_accepted_version ?? null,
    terms_accepted_at: u.terms_accepted_at?.toISOString() ?? null,
    created_at: u.created_at.toISOString(),
    updated_at: u.updated_at.toISOString(),
  };
}

/** Whether a write leaves the address as it is (undefined: not written; case does not count). */
export function sameAddress(next: string | null | undefined, current: string | null): boolean {
  return next === undefined || (next?.toLowerCase() ?? null) === (current?.toLowerCase() ?? null);
}

/** Escapes LIKE metacharacters so a prefix filter matches literally. */
export function likePrefix(value: string): string {
  return value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
}

export function usernameOf(item: unknown): string | null {
  return item &&
    typeof item === 'object' &&
    typeof (item as { username?: unknown }).username === 'string'
    ? (item as { username: string }).username
    : null;
}

export const USERNAME_ONLY = /^[a-zA-Z0-9_.-]+$/;

export function pick(dto: object): Partial<UserEntity> {
  const out: Record<string, unknown> = {};
  for (const key of EDITABLE) {
    const v = (dto as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = v;
  }
  return out as Partial<UserEntity>;
}

/** The seed sends `tenant_id` in user bodies: it must name the tenant of the path. */
export function tenantMismatch(tenantId: string, dto: { tenant_id?: string }): string | null {
  return dto.tenant_id !== undefined && dto.tenant_id !== tenantId
    ? 'tenant_id must equal the tenant in the path'
    : null;
}
