import { createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';

const generateKeyPairAsync = promisify(generateKeyPair);

/** The JWS algorithms every tenant signs with; RS256 first: it is the default ID token alg. */
export const SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** JWK members that carry private or symmetric key material (RFC 7518 §6). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export interface GeneratedSigningKey {
  kid: string;
  alg: SigningAlg;
  /** kty, key parameters, kid, alg, use: safe to publish. */
  publicJwk: JWK;
  /** The same plus the private parameters: only ever stored sealed. */
  privateJwk: JWK;
}

/** The public half of a JWK: every private member removed. */
export function publicJwkOf(jwk: JWK): JWK {
  const out: Record<string, unknown> = { ...jwk };
  for (const member of PRIVATE_JWK_MEMBERS) delete out[member];
  return out as JWK;
}

export function hasPrivateMembers(jwk: object): boolean {
  return PRIVATE_JWK_MEMBERS.some((m) => m in jwk);
}

/**
 * node:crypto's callback API runs key generation on the libuv thread pool, so an RSA key
 * (tens of milliseconds) never blocks the event loop.
 */
async function generatePrivateKey(alg: SigningAlg): Promise<KeyObject> {
  switch (alg) {
    case 'RS256':
      return (await generateKeyPairAsync('rsa', { modulusLength: 2048 })).privateKey;
    case 'ES256':
      return (await generateKeyPairAsync('ec', { namedCurve: 'P-256' })).privateKey;
    case 'EdDSA':
      return (await generateKeyPairAsync('ed25519')).privateKey;
  }
}

/** Turns a private key into the signing key record; the kid is the RFC 7638 thumbprint. */
export async function signingKeyFrom(
  alg: SigningAlg,
  privateKey: KeyObject,
): Promise<GeneratedSigningKey> {
  const bare = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(bare, 'sha256');
  const publicJwk: JWK = { ...bare, kid, alg, use: 'sig' };
  const privateJwk: JWK = {
    ...(privateKey.export({ format: 'jwk' }) as JWK),
    kid,
    alg,
    use: 'sig',
  };
  return { kid, alg, publicJwk, privateJwk };
}

export async function generateSigningKey(alg: SigningAlg): Promise<GeneratedSigningKey> {
  return signingKeyFrom(alg, await generatePrivateKey(alg));
}

/**
 * Keeps a few RSA keys generated ahead of need. EC and Ed25519 keys take well under a
 * millisecond; an RSA-2048 key takes 20-100 ms, which would otherwise sit inside every tenant
 * creation (and its transaction). Refills run in the background, a couple at a time, so a burst
 * of tenant creations drains the pool and then proceeds at the thread pool's pace.
 */
export class SigningKeyPool {
  private readonly ready: KeyObject[] = [];
  private inFlight = 0;
  private closed = false;

  constructor(
    private readonly size = 4,
    private readonly concurrency = 2,
  ) {}

  /** RSA keys ready to hand out now. */
  get available(): number {
    return this.ready.length;
  }

  /** Starts filling the pool; optional, take() fills it too. */
  warm(): void {
    this.refill();
  }

  async generate(alg: SigningAlg): Promise<GeneratedSigningKey> {
    if (alg !== 'RS256') return generateSigningKey(alg);
    const pooled = this.ready.shift();
    this.refill();
    return signingKeyFrom(alg, pooled ?? (await generatePrivateKey(alg)));
  }

  /** Stops refilling and drops the keys held. */
  close(): void {
    this.closed = true;
    this.ready.length = 0;
  }

  private refill(): void {
    while (
      !this.closed &&
      this.inFlight < this.concurrency &&
      this.ready.length + this.inFlight < this.size
    ) {
      this.inFlight += 1;
      generatePrivateKey('RS256')
        .then((key) => {
          if (!this.closed) this.ready.push(key);
        })
        .catch(() => undefined)
        .finally(() => {
          this.inFlight -= 1;
          this.refill();
        });
    }
  }
}
