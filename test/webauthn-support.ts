import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

// A software WebAuthn authenticator for API tests: real ES256 keys and signatures, the CBOR and
// authenticator-data structures built by hand, so registrations and assertions verify for real.

export type Cbor = number | string | Uint8Array | Cbor[] | Map<Cbor, Cbor> | { [k: string]: Cbor };

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
export function cbor(v: Cbor): Buffer {
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

export const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');
export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();

export const FLAG_UP = 0x01;
export const FLAG_UV = 0x04;
export const FLAG_BE = 0x08;
export const FLAG_BS = 0x10;
export const FLAG_AT = 0x40;

export class SoftAuthenticator {
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
