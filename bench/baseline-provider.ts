/**
 * The baseline of `npm run bench`: a bare oidc-provider (in-memory adapter, no database, no
 * tenancy) with the same kinds of clients and algorithms as the benchmarked tenant. It runs as
 * its own process so its CPU is measured the same way as ours.
 * Env: PORT; prints one JSON line {issuer, clients} on stdout when listening.
 */
import { generateKeyPair, exportJWK } from 'jose';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';

const port = Number(process.env.PORT ?? 39200);
const issuer = `http://127.0.0.1:${port}`;
const algs = ['RS256', 'ES256', 'EdDSA'] as const;

const keys = [];
for (const alg of algs) {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  keys.push({ ...(await exportJWK(privateKey)), alg, use: 'sig', kid: `bare-${alg}` });
}

const clients = algs.map((alg) => ({
  client_id: `bare-cc-${alg}`,
  client_secret: `bare-secret-${alg}-0123456789abcdef`,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: alg,
}));

const configuration = {
  clients: clients as ClientMetadata[],
  jwks: { keys },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => issuer,
      useGrantedResource: async () => false,
      getResourceServerInfo: async (
        _ctx: unknown,
        _resource: string,
        client: { idTokenSignedResponseAlg?: string },
      ) => ({
        scope: '',
        audience: issuer,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: client.idTokenSignedResponseAlg ?? 'RS256' } },
      }),
    },
  },
  enabledJWA: { idTokenSigningAlgValues: [...algs] },
} as unknown as Configuration;
const provider = new Provider(issuer, configuration);
provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(
    JSON.stringify({
      issuer,
      clients: clients.map((c) => ({
        id: c.client_id,
        secret: c.client_secret,
        alg: c.id_token_signed_response_alg,
      })),
    }) + '\n',
  );
});
// Exit normally on SIGTERM so a --cpu-prof profile (BENCH_CPU_PROF) is written.
process.on('SIGTERM', () => process.exit(0));
