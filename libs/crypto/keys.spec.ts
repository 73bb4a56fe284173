import { calculateJwkThumbprint, compactVerify, CompactSign, importJWK } from 'jose';
import {
  generateSigningKey,
  hasPrivateMembers,
  publicJwkOf,
  SIGNING_ALGS,
  SigningKeyPool,
} from './keys.js';

describe('signing key generation', () => {
  it.each([
    ['RS256', { kty: 'RSA' }],
    ['ES256', { kty: 'EC', crv: 'P-256' }],
    ['EdDSA', { kty: 'OKP', crv: 'Ed25519' }],
  ] as const)('makes a %s key that signs and verifies', async (alg, shape) => {
    const key = await generateSigningKey(alg);
    expect(key.alg).toBe(alg);
    expect(key.publicJwk).toMatchObject({ ...shape, alg, use: 'sig', kid: key.kid });
    expect(key.privateJwk).toMatchObject({ ...shape, alg, use: 'sig', kid: key.kid });
    expect(hasPrivateMembers(key.publicJwk)).toBe(false);
    expect(key.privateJwk.d).toEqual(expect.any(String));
    // the kid is the RFC 7638 thumbprint of the public key
    expect(key.kid).toBe(await calculateJwkThumbprint(key.publicJwk, 'sha256'));

    const jws = await new CompactSign(new TextEncoder().encode('hello'))
      .setProtectedHeader({ alg, kid: key.kid })
      .sign(await importJWK(key.privateJwk, alg));
    const verified = await compactVerify(jws, await importJWK(key.publicJwk, alg));
    expect(new TextDecoder().decode(verified.payload)).toBe('hello');
  });

  it('makes an RSA key of 2048 bits', async () => {
    const key = await generateSigningKey('RS256');
    expect(Buffer.from(key.publicJwk.n!, 'base64url').length * 8).toBe(2048);
  });

  it('makes distinct keys every time', async () => {
    const kids = new Set<string>();
    for (const alg of SIGNING_ALGS) {
      kids.add((await generateSigningKey(alg)).kid);
      kids.add((await generateSigningKey(alg)).kid);
    }
    expect(kids.size).toBe(6);
  });

  it('strips every private member for the public half', () => {
    const jwk = {
      kty: 'RSA',
      n: 'n',
      e: 'AQAB',
      d: 'd',
      p: 'p',
      q: 'q',
      dp: '1',
      dq: '2',
      qi: '3',
    };
    expect(publicJwkOf(jwk)).toEqual({ kty: 'RSA', n: 'n', e: 'AQAB' });
    expect(hasPrivateMembers({ kty: 'oct', k: 'x' })).toBe(true);
  });

  it('does not block the event loop while generating RSA keys', async () => {
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 1);
    const started = performance.now();
    await Promise.all([1, 2, 3, 4].map(() => generateSigningKey('RS256')));
    clearInterval(timer);
    const elapsed = performance.now() - started;
    // a blocking generator would leave the interval no chance to fire during the work
    expect(ticks).toBeGreaterThan(Math.min(5, elapsed / 20));
  });
});

describe('SigningKeyPool', () => {
  it('hands out distinct RSA keys ahead of need, and other algs on demand', async () => {
    const pool = new SigningKeyPool(2, 2);
    pool.warm();
    const a = await pool.generate('RS256');
    const b = await pool.generate('RS256');
    const c = await pool.generate('RS256');
    const e = await pool.generate('EdDSA');
    expect(new Set([a.kid, b.kid, c.kid]).size).toBe(3);
    expect(e.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    pool.close();
  });

  it('hands out a key generated ahead of need, without generating one in the request', async () => {
    const pool = new SigningKeyPool(3, 3);
    pool.warm();
    for (let i = 0; i < 200 && pool.available < 3; i++) await new Promise((r) => setTimeout(r, 50));
    expect(pool.available).toBe(3);
    // The pooled key is taken as the call starts (a refill only begins in the background).
    const pending = pool.generate('RS256');
    expect(pool.available).toBe(2);
    expect((await pending).publicJwk).toMatchObject({ kty: 'RSA' });
    pool.close();
  });
});
