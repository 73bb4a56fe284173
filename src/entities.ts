import { ApiKeyEntity } from './api-keys/api-key.entity.js';
import {
  LoginActiveUsersEntity,
  LoginRollupEntity,
  LoginUserSeenEntity,
} from './analytics/login-rollup.entity.js';
import { AuditEventEntity } from './audit/audit-event.entity.js';
import { PlatformAuditEventEntity } from './audit/platform-audit-event.entity.js';
import { BlockEntity, PlatformBlockEntity } from './blocker/block.entity.js';
import { ClientEntity } from './clients/client.entity.js';
import { GroupAllowedClientEntity, GroupEntity, GroupMemberEntity } from './groups/group.entity.js';
import { OidcPayloadEntity } from './oidc/oidc-payload.entity.js';
import { BackchannelLogoutEntity } from './oidc/backchannel-logout.entity.js';
import { SigningKeyEntity } from './signing-keys/signing-key.entity.js';
import { TenantEntity } from './tenants/tenant.entity.js';
import { RecoveryCodeEntity, UserTotpEntity } from './mfa/mfa.entities.js';
import { PasskeyCredentialEntity, WebauthnChallengeEntity } from './passkeys/passkey.entities.js';
import { DeviceLinkEntity } from './passkeys/device-link.entity.js';
import {
  PinPatternCredentialEntity,
  PinPatternServerSetupEntity,
  PinPatternTicketEntity,
} from './pin-pattern/pin-pattern.entities.js';
import { EmailTokenEntity } from './email-flows/email-token.entity.js';
import { MailLimitEntity } from './email-flows/mail-limit.entity.js';
import { SignInLinkEntity } from './email-flows/sign-in-link.entity.js';
import { SessionSignInEntity } from './sessions/session-sign-in.entity.js';
import {
  ClientRegistrationEntity,
  InitialAccessTokenEntity,
} from './registration/registration.entities.js';
import { TenantUserCountEntity, UserEntity } from './users/user.entity.js';
import { IdempotencyKeyEntity } from './idempotency/idempotency-key.entity.js';
import {
  ForwardAuthRevocationEntity,
  ProtectedAppEntity,
} from './forward-auth/protected-app.entity.js';
import { UpstreamProviderEntity } from './upstream/upstream-provider.entity.js';
import { IdentityLinkEntity } from './upstream/identity-link.entity.js';

/** Every entity; modules register here so one DataSource knows the whole schema. */
export const entities = [
  TenantEntity,
  ApiKeyEntity,
  UserEntity,
  TenantUserCountEntity,
  GroupEntity,
  GroupMemberEntity,
  GroupAllowedClientEntity,
  OidcPayloadEntity,
  BackchannelLogoutEntity,
  ClientEntity,
  SigningKeyEntity,
  AuditEventEntity,
  BlockEntity,
  PlatformBlockEntity,
  LoginRollupEntity,
  LoginUserSeenEntity,
  LoginActiveUsersEntity,
  UserTotpEntity,
  RecoveryCodeEntity,
  PasskeyCredentialEntity,
  WebauthnChallengeEntity,
  DeviceLinkEntity,
  EmailTokenEntity,
  MailLimitEntity,
  SignInLinkEntity,
  SessionSignInEntity,
  PlatformAuditEventEntity,
  InitialAccessTokenEntity,
  ClientRegistrationEntity,
  IdempotencyKeyEntity,
  PinPatternCredentialEntity,
  PinPatternServerSetupEntity,
  PinPatternTicketEntity,
  ProtectedAppEntity,
  ForwardAuthRevocationEntity,
  UpstreamProviderEntity,
  IdentityLinkEntity,
];
