import { SecretBox } from '../../../libs/crypto/index.js';

/**
 * Where a sign-in stands between its steps (password done, second factor or enrolment next),
 * carried by the page itself in a hidden field, sealed with the master key and bound to the
 * tenant and interaction: it cannot be read, altered or moved to another interaction, and the
 * interaction is bound to this browser by oidc-provider's cookie. Nothing is stored
 * server-side, so an abandoned step leaves nothing behind.
 */
export type PendingStage =
  /** First factor passed; a TOTP or recovery code is next. */
  | 'totp'
  /** First factor passed; the tenant requires a second factor the user has not set up. */
  | 'enrol'
  /** Account just created; an optional passkey, then the usual checks. */
  | 'signup'
  /** A sign-in code was mailed (when the address exists); the code is next. */
  | 'email_code'
  /** Every check passed but a tenant stipulation (StipulationRules) is unmet. */
  | 'stipulation'
  /** TOTP was just set up and its recovery codes shown; a PIN/pattern offer may come next. */
  | 'enrolled'
  /** Every check passed; the next post finishes the sign-in. */
  | 'done';

export interface PendingLogin {
  stage: PendingStage;
  accountId: string;
  amr: string[];
  /** The method that completes the sign-in (audit, metrics). */
  method: string;
  /** A pending TOTP enrolment, so a mistyped code can show the same QR code again. */
  enrolment?: { secret: string; uri: string };
  /** The address a sign-in code was asked for (stage email_code, where accountId is empty). */
  email?: string;
  /** A headless sign-in link's nonce (its custom UI holds the step, not a cookie). */
  nonce?: string;
  /** Epoch ms. */
  expires: number;
}

const TTL_MS = 10 * 60_000;

export class PendingLogins {
  private readonly box: SecretBox;

  constructor(masterKey: Buffer) {
    this.box = new SecretBox(masterKey);
  }

  private aad(tenantId: string, uid: string) {
    return `login-pending:${tenantId}:${uid}`;
  }

  seal(tenantId: string, uid: string, state: Omit<PendingLogin, 'expires'>): string {
    const full: PendingLogin = { ...state, expires: Date.now() + TTL_MS };
    return this.box.seal(JSON.stringify(full), this.aad(tenantId, uid));
  }

  /** The state, when the value is genuine, of this interaction, unexpired and at one of `stages`. */
  open(
    tenantId: string,
    uid: string,
    value: unknown,
    stages: PendingStage[],
  ): PendingLogin | undefined {
    if (typeof value !== 'string' || !value || value.length > 4096) return undefined;
    let state: PendingLogin;
    try {
      state = JSON.parse(this.box.openString(value, this.aad(tenantId, uid))) as PendingLogin;
    } catch {
      return undefined;
    }
    if (!stages.includes(state.stage) || !(state.expires > Date.now())) return undefined;
    return state;
  }
}
