import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { AuditService } from '../src/audit/audit.service.js';
import { PasskeysService } from '../src/passkeys/passkeys.service.js';
import { newTenant, startTestApp, type TestApp } from '../libs/testing/index.js';

// ---- a software authenticator (as in passkeys.e2e-spec.ts): real keys, real signatures

type Cbor = number | string | Uint8Array | Cbor[] | Map<Cbor, Cbor> | { [k: string]: Cbor };

function cborHead(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  if (n < 65536) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

/** The little CBOR WebAuthn needs: ints, byte and text strings, arrays, maps. */
function cbor(v: Cbor): Buffer {
  if (typeof v === 'number') return v >= 0 ? cborHead(0, v) : cborHead(1, -1 - v);
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    return Buffer.concat([cborHead(3, s.length), s]);
  }
  if (v instanceof Uint8Array) return Buffer.concat([cborHead(2, v.length), Buffer.from(v)]);
  if (Array.isArray(v)) return Buffer.concat([cborHead(4, v.length), ...v.map(cbor)]);
  const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
  return Buffer.concat([
    cborHead(5, entries.length),
    ...entries.flatMap(([k, x]) => [cbor(k), cbor(x)]),
  ]);
}

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

class SoftAuthenticator {
  readonly credentialId: Buffer;
  private readonly privateKey: KeyObject;
  private readonly cosePublicKey: Buffer;
  counter: number;

  constructor(
    private readonly rpId: string,
    private readonly origin: string,
    opts: { counter?: number; synced?: boolean; idBytes?: number } = {},
  ) {
    this.credentialId = randomBytes(opts.idBytes ?? 32);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.cosePublicKey = cbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
    this.counter = opts.counter ?? 1;
    this.synced = opts.synced ?? false;
  }

  private readonly synced: boolean;

  get id() {
    return b64u(this.credentialId);
  }

  private flags(extra: number) {
    return FLAG_UP | FLAG_UV | extra | (this.synced ? FLAG_BE | FLAG_BS : 0);
  }

  private authData(flags: number, counter: number, attested?: Buffer) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    return Buffer.concat([
      sha256(this.rpId),
      Buffer.from([flags]),
      c,
      ...(attested ? [attested] : []),
    ]);
  }

  register(challenge: string, o: { origin?: string; type?: string } = {}) {
    const clientDataJSON = JSON.stringify({
      type: o.type ?? 'webauthn.create',
      challenge,
      origin: o.origin ?? this.origin,
      crossOrigin: false,
    });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), len, this.credentialId, this.cosePublicKey]);
    const authData = this.authData(this.flags(FLAG_AT), 0, attested);
    const attestationObject = cbor({ fmt: 'none', attStmt: {}, authData });
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientDataJSON),
        attestationObject: b64u(attestationObject),
        transports: ['internal', 'hybrid', 'carrier-pigeon'],
      },
      clientExtensionResults: {},
    };
  }

  /** An assertion; the counter moves forward unless `counter` pins it. */
  assert(challenge: string, o: { counter?: number; origin?: string; userHandle?: string } = {}) {
    if (o.counter === undefined && this.counter > 0) this.counter += 1;
    const counter = o.counter ?? this.counter;
    const clientDataJSON = Buffer.from(
      JSON.stringify({ type: 'webauthn.get', challenge, origin: o.origin ?? this.origin }),
    );
    const authenticatorData = this.authData(this.flags(0), counter);
    const signature = sign(
      'sha256',
      Buffer.concat([authenticatorData, sha256(clientDataJSON)]),
      this.privateKey,
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authenticatorData),
        signature: b64u(signature),
        ...(o.userHandle ? { userHandle: b64u(o.userHandle) } : {}),
      },
      clientExtensionResults: {},
    };
  }
}

const UA = 'audit-passkeys-test/1.0';

/** Passkey registration, renaming, removal and use are logged with the user as actor. */
describe('audit events: passkeys', () => {
  let t: TestApp;
  let rpId: string;
  beforeAll(async () => {
    t = await startTestApp();
    rpId = new URL(t.baseUrl).hostname;
  });
  afterAll(() => t.close());

  async function events(tenantId: string, type: string) {
    await t.app.get(AuditService).flush();
    const r = await t.http('GET', `/api/v1/tenants/${tenantId}/audit-events?type=${type}`);
    expect(r.status).toBe(200);
    return r.body.data as Array<Record<string, unknown> & { type: string }>;
  }

  it('records registered, renamed, used and deleted', async () => {
    const { tenantId, key } = await newTenant(t, ['users:write', 'api-keys:write']);
    const user = await t.http('POST', `/api/v1/tenants/${tenantId}/users`, {
      key,
      body: { username: 'gina' },
    });
    const userId = user.body.user_id as string;
    const userKey = (
      await t.http('POST', `/api/v1/tenants/${tenantId}/api-keys`, {
        key,
        body: { name: 'gina', scopes: [], user_id: userId },
      })
    ).body.api_key as string;
    const base = `/api/v1/tenants/${tenantId}/me/passkeys`;
    const headers = { 'user-agent': UA };

    const authr = new SoftAuthenticator(rpId, t.baseUrl);
    const opts = await t.http('POST', `${base}/registration-options`, { key: userKey, headers });
    const reg = await t.http('POST', `${base}/registration`, {
      key: userKey,
      headers,
      body: {
        challenge_id: opts.body.challenge_id,
        response: authr.register(opts.body.options.challenge),
        name: 'Laptop',
      },
    });
    expect(reg.status).toBe(201);
    const passkeyId = reg.body.passkey_id as string;
    const renamed = await t.http('PATCH', `${base}/${passkeyId}`, {
      key: userKey,
      headers,
      body: { name: 'Work laptop' },
    });
    expect(renamed.status).toBe(200);

    const passkeys = t.app.get(PasskeysService);
    const a = await passkeys.authenticationOptions(tenantId, 'gina');
    const signedIn = await passkeys.verifyAuthentication(
      tenantId,
      a.challenge_id,
      authr.assert(a.options.challenge) as never,
      { ip: '192.0.2.5', userAgent: 'browser' },
    );
    expect(signedIn).toBe(userId);

    expect((await t.http('DELETE', `${base}/${passkeyId}`, { key: userKey, headers })).status).toBe(
      204,
    );

    const all = await events(tenantId, 'passkey.*');
    expect(all.map((e) => e.type).toReversed()).toEqual([
      'passkey.registered',
      'passkey.renamed',
      'passkey.used',
      'passkey.deleted',
    ]);
    for (const e of all) {
      expect(e).toMatchObject({
        actor_type: 'user',
        actor_id: userId,
        subject_id: userId,
        method: 'passkey',
        outcome: 'success',
        details: expect.objectContaining({ passkey_id: passkeyId }),
      });
    }
    const byType = Object.fromEntries(all.map((e) => [e.type, e]));
    expect(byType['passkey.registered']).toMatchObject({ ip: '127.0.0.1', user_agent: UA });
    expect(byType['passkey.renamed'].details).toMatchObject({
      name: 'Work laptop',
      previous_name: 'Laptop',
    });
    expect(byType['passkey.used']).toMatchObject({ ip: '192.0.2.5', user_agent: 'browser' });
    expect(byType['passkey.deleted']).toMatchObject({ ip: '127.0.0.1', user_agent: UA });
  });
});
