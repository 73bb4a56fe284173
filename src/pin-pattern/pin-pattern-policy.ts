import type { LoginFactor, TenantSettings } from '../tenants/tenant-settings.js';

/**
 * The OPAQUE profile of this deployment: @serenity-kit/opaque 1.x (ristretto255, 3DH,
 * SHA-512) with the "memory-constrained" Argon2id key stretching on the client (64 MiB, so a
 * phone can run it). A client that registered under another profile cannot sign in, so the
 * registration names it and the server refuses what it does not speak.
 */
export const PROTO_VERSION = 'opaque-1';
export const KEY_STRETCHING = 'memory-constrained' as const;

/** Fewest points of a drawn pattern (Android's rule): a two-point line is not a secret. */
export const MIN_PATTERN_POINTS = 4;
export const PIN_SIZE = { min: 4, max: 12 };
export const PATTERN_GRID = { min: 3, max: 5 };

/** What a tenant asks of a PIN/pattern credential, from its settings. */
export interface PinPatternPolicy {
  /** The enabled factors in the tenant's `login_order` (PIN then pattern when it names none). */
  factors: LoginFactor[];
  pinSize: number;
  /** Points per side of the pattern grid. */
  gridSize: number;
  minPatternPoints: number;
  showPinWhenTyping: boolean;
}

const clamp = (v: number, lo: number, hi: number) =>
  Number.isInteger(v) ? Math.min(hi, Math.max(lo, v)) : lo;

/** The tenant's policy, or null when it uses neither a PIN nor a pattern. */
export function policyOf(
  settings: Pick<
    TenantSettings,
    'use_pin' | 'use_pattern' | 'pin_size' | 'pattern_size' | 'login_order' | 'show_pin_when_typing'
  >,
): PinPatternPolicy | null {
  const enabled = (f: LoginFactor) => (f === 'PIN' ? settings.use_pin : settings.use_pattern);
  const order: LoginFactor[] = settings.login_order.length
    ? [...settings.login_order]
    : ['PIN', 'PATTERN'];
  const factors = order.filter((f, i) => enabled(f) && order.indexOf(f) === i);
  if (!factors.length) return null;
  return {
    factors,
    pinSize: clamp(settings.pin_size, PIN_SIZE.min, PIN_SIZE.max),
    gridSize: clamp(settings.pattern_size, PATTERN_GRID.min, PATTERN_GRID.max),
    minPatternPoints: MIN_PATTERN_POINTS,
    showPinWhenTyping: settings.show_pin_when_typing,
  };
}

/** What the user entered: the PIN's digits and the pattern's points (row-major indices). */
export interface PinPatternInput {
  pin?: string;
  pattern?: number[];
}

/**
 * The one OPAQUE password a user's PIN and pattern make, in the tenant's order: each factor
 * strengthens the other, and neither is ever sent. The same encoding runs in the hosted
 * page's script (src/hosted/assets/pin-pattern-script.ts); this copy is what API clients and
 * tests use. Throws on input the policy does not allow (the server never sees the secret,
 * so this is where a client learns it typed too few digits).
 */
export function secretOf(policy: PinPatternPolicy, input: PinPatternInput): string {
  return policy.factors
    .map((f) => {
      if (f === 'PIN') {
        const pin = input.pin ?? '';
        if (!new RegExp(`^[0-9]{${policy.pinSize}}$`).test(pin))
          throw new Error(`the PIN must have ${policy.pinSize} digits`);
        return `pin:${pin}`;
      }
      const points = input.pattern ?? [];
      const cells = policy.gridSize * policy.gridSize;
      if (
        points.length < policy.minPatternPoints ||
        new Set(points).size !== points.length ||
        points.some((p) => !Number.isInteger(p) || p < 0 || p >= cells)
      )
        throw new Error(
          `the pattern must join at least ${policy.minPatternPoints} different points`,
        );
      return `pattern:${policy.gridSize}:${points.join('-')}`;
    })
    .join('|');
}
