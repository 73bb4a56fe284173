import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { DataSource } from 'typeorm';
import { startTestApp, type TestApp } from './harness.js';
import { createClient } from './oidc-support.js';
import * as fixtures from './fixtures.js';

/**
 * A client's jwks_uri is fetched by the server: it must never reach into the deployment's own
 * networks. Refused when set (a 400 problem naming the field) and again when fetched.
 * OUTBOUND_ALLOW_PRIVATE (off by default) lets tests reach a local key server.
 */

/** A local JWKS server that counts the requests it answers. */
async function keyServer(publicJwk: Record<string, unknown>, padding = 0) {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits += 1;
    res.setHeader('content-type', 'application/json');
    const key = { ...publicJwk, kid: 'k1', alg: 'ES256', use: 'sig' };
    res.end(JSON.stringify({ keys: [key], ...(padding ? { pad: 'x'.repeat(padding) } : {}) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/jwks`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function ecKeys() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicJwk: publicKey.export({ format: 'jwk' }) as Record<string, unknown> };
}

/** client_credentials with private_key_jwt, as plain HTTP. */
async function jwtClientCredentials(
  t: TestApp,
  tenantId: string,
  clientId: string,
  key: KeyObject,
) {
  const tokenEndpoint = `${t.baseUrl}/${tenantId}/token`;
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenEndpoint)
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime('1m')
    .sign(key);
  const r = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

const JWT_CLIENT = {
  client_type: 'confidential',
  grant_types: ['client_credentials'],
  token_endpoint_auth_method: 'private_key_jwt',
};

describe('jwks_uri and other URLs the server fetches', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function tenant() {
    const { tenantId } = await fixtures.tenant(t, { prefix: 'ssrf' });
    return tenantId;
  }

  it.each([
    ['plain http', 'http://93.184.215.14/jwks', 'https'],
    ['loopback IPv4', 'https://127.0.0.1/jwks', 'internal'],
    ['loopback by name', 'https://localhost:8443/jwks', 'internal'],
    ['loopback IPv6', 'https://[::1]/jwks', 'internal'],
    ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/jwks', 'internal'],
    ['a private network', 'https://10.1.2.3/jwks', 'internal'],
    ['another private network', 'https://192.168.0.10/jwks', 'internal'],
    ['the cloud metadata address', 'https://169.254.169.254/latest/meta-data', 'internal'],
    ['shared address space', 'https://100.64.0.1/jwks', 'internal'],
    ['a unique local IPv6', 'https://[fd00::1]/jwks', 'internal'],
    ['the unspecified address', 'https://0.0.0.0/jwks', 'internal'],
  ])('refuses a jwks_uri on %s with a 400 problem', async (_what, jwksUri, word) => {
    const tenantId = await tenant();
    const r = await t.http('POST', `/api/v1/tenants/${tenantId}/clients`, {
      body: { name: 'JWT', ...JWT_CLIENT, jwks_uri: jwksUri },
    });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/problem\+json/);
    expect(r.body.errors).toEqual([{ field: 'jwks_uri', message: expect.stringContaining(word) }]);
    expect((await t.http('GET', `/api/v1/tenants/${tenantId}/clients`)).body.total_count).toBe(0);
  });

  it('accepts a public https jwks_uri, and refuses a PATCH or PUT to an internal one', async () => {
    const tenantId = await tenant();
    const created = await createClient(t, tenantId, {
      ...JWT_CLIENT,
      jwks_uri: 'https://93.184.215.14/jwks',
    });
    const path = `/api/v1/tenants/${tenantId}/clients/${created.client_id}`;
    const patched = await t.http('PATCH', path, {
      body: { jwks_uri: 'https://169.254.169.254/jwks' },
    });
    expect(patched.status).toBe(400);
    expect(patched.body.errors[0].field).toBe('jwks_uri');
    const replaced = await t.http('PUT', path, {
      body: { name: 'JWT', ...JWT_CLIENT, jwks_uri: 'https://127.0.0.1/jwks' },
    });
    expect(replaced.status).toBe(400);
    expect(replaced.body.errors[0].field).toBe('jwks_uri');
    expect((await t.http('GET', path)).body.jwks_uri).toBe('https://93.184.215.14/jwks');
  });

  it('refuses a backchannel_logout_uri on an internal address (logout tokens are POSTed there)', async () => {
    const tenantId = await tenant();
    const created = await createClient(t, tenantId, {
      ...JWT_CLIENT,
      jwks_uri: 'https://93.184.215.14/jwks',
      backchannel_logout_uri: 'https://93.184.215.14/logout',
    });
    const path = `/api/v1/tenants/${tenantId}/clients/${created.client_id}`;
    for (const uri of [
      'https://169.254.169.254/logout',
      'https://10.0.0.1/bc',
      'http://93.184.215.14/bc',
    ]) {
      const patched = await t.http('PATCH', path, { body: { backchannel_logout_uri: uri } });
      expect(patched.status).toBe(400);
      expect(patched.body.errors[0].field).toBe('backchannel_logout_uri');
    }
    expect((await t.http('GET', path)).body.backchannel_logout_uri).toBe(
      'https://93.184.215.14/logout',
    );
  });

  it('does not fetch an internal jwks_uri stored before these rules', async () => {
    const tenantId = await tenant();
    const { privateKey, publicJwk } = ecKeys();
    const server = await keyServer(publicJwk);
    try {
      const c = await createClient(t, tenantId, {
        ...JWT_CLIENT,
        jwks: { keys: [{ ...publicJwk, kid: 'k1' }] },
      });
      // A row from before: the keys moved to a URL on the loopback interface.
      await t.app
        .get(DataSource)
        .query(
          `UPDATE clients SET jwks = NULL, jwks_uri = $3 WHERE tenant_id = $1 AND client_id = $2`,
          [tenantId, c.client_id, server.url],
        );
      // Any change reloads the client everywhere.
      await t.http('PATCH', `/api/v1/tenants/${tenantId}/clients/${c.client_id}`, {
        body: { name: 'renamed' },
      });
      const r = await jwtClientCredentials(t, tenantId, c.client_id, privateKey);
      expect(r).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      expect(server.hits()).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe('OUTBOUND_ALLOW_PRIVATE (local test servers)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { OUTBOUND_ALLOW_PRIVATE: 'true' } });
  });
  afterAll(() => t.close());

  it('accepts and fetches a jwks_uri on the loopback interface', async () => {
    const { tenantId } = await fixtures.tenant(t, { prefix: 'ssrf-ok' });
    const { privateKey, publicJwk } = ecKeys();
    const server = await keyServer(publicJwk);
    try {
      const c = await createClient(t, tenantId, { ...JWT_CLIENT, jwks_uri: server.url });
      const r = await jwtClientCredentials(t, tenantId, c.client_id, privateKey);
      expect(r).toMatchObject({ status: 200, body: { token_type: 'Bearer' } });
      expect(server.hits()).toBeGreaterThanOrEqual(1);
    } finally {
      await server.close();
    }
  });
  it('reads no more than 64 KiB of a key set', async () => {
    const { tenantId } = await fixtures.tenant(t, { prefix: 'ssrf-big' });
    const { privateKey, publicJwk } = ecKeys();
    const server = await keyServer(publicJwk, 1024 * 1024);
    try {
      const c = await createClient(t, tenantId, { ...JWT_CLIENT, jwks_uri: server.url });
      const r = await jwtClientCredentials(t, tenantId, c.client_id, privateKey);
      expect(r).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      expect(server.hits()).toBe(1);
    } finally {
      await server.close();
    }
  });
});
