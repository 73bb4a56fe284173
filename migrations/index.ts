import { Foundation1763900000000 } from './1763900000000-foundation.js';
import { Directory1763900001000 } from './1763900001000-directory.js';
import { ClientsSigningKeys1763900002000 } from './1763900002000-clients-signing-keys.js';
import { Oidc1763900003000 } from './1763900003000-oidc.js';
import { AuditBlocker1763900004000 } from './1763900004000-audit-blocker.js';
import { Scim1763900005000 } from './1763900005000-scim.js';
import { StrongAuth1763900006000 } from './1763900006000-strong-auth.js';
import { Sessions1763900007000 } from './1763900007000-sessions.js';
import { OidcApply1763900008000 } from './1763900008000-oidc-apply.js';
import { BlockerNamespaces1764000200000 } from './1764000200000-blocker-namespaces.js';
import { OidcConsumeOnce1764000300000 } from './1764000300000-oidc-consume-once.js';
import { MailLimits1764000500000 } from './1764000500000-mail-limits.js';
import { PlatformAudit1764000600000 } from './1764000600000-platform-audit.js';
import { ForwardAuth1764001000000 } from './1764001000000-forward-auth.js';
import { PinPattern1764001100000 } from './1764001100000-pin-pattern.js';
import { IdempotencyKeys1764001300000 } from './1764001300000-idempotency-keys.js';
import { UserPicture1764001200000 } from './1764001200000-user-picture.js';
import { ClientUserAgreement1764001500000 } from './1764001500000-client-user-agreement.js';
import { ClientLogoutChannels1764001600000 } from './1764001600000-client-logout-channels.js';
import { DynamicRegistration1764001700000 } from './1764001700000-dynamic-registration.js';
import { PinPatternLinks1764002000000 } from './1764002000000-pin-pattern-links.js';
import { BackchannelLogoutOutbox1764002300000 } from './1764002300000-backchannel-logout-outbox.js';
import { DeviceLinks1764002400000 } from './1764002400000-device-links.js';
import { SignInLinks1764002500000 } from './1764002500000-sign-in-links.js';
import { Stipulations1764002600000 } from './1764002600000-stipulations.js';
import { UpstreamProviders1764002700000 } from './1764002700000-upstream-providers.js';

/** Every migration, in order. Explicit imports: ESM builds have no glob loading. */
export const migrations = [
  Foundation1763900000000,
  Directory1763900001000,
  ClientsSigningKeys1763900002000,
  Oidc1763900003000,
  AuditBlocker1763900004000,
  Scim1763900005000,
  StrongAuth1763900006000,
  Sessions1763900007000,
  OidcApply1763900008000,
  BlockerNamespaces1764000200000,
  OidcConsumeOnce1764000300000,
  MailLimits1764000500000,
  PlatformAudit1764000600000,
  ForwardAuth1764001000000,
  PinPattern1764001100000,
  UserPicture1764001200000,
  IdempotencyKeys1764001300000,
  ClientUserAgreement1764001500000,
  ClientLogoutChannels1764001600000,
  DynamicRegistration1764001700000,
  PinPatternLinks1764002000000,
  BackchannelLogoutOutbox1764002300000,
  DeviceLinks1764002400000,
  SignInLinks1764002500000,
  Stipulations1764002600000,
  UpstreamProviders1764002700000,
];
