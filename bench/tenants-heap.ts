/**
 * Heap snapshots of the server with A and then B tenants resident (discovery, JWKS and a token
 * each), for a per-tenant diff by constructor (decision note 0035). Writes the snapshots to
 * HEAP_DIR. Run: npm run build && HEAP_DIR=/tmp/snap node dist/bench/tenants-heap.js
 */
import { readdirSync } from 'node:fs';
import { freshDatabase, startServer } from './lib.js';

const A = Number(process.env.A ?? 100);
const B = Number(process.env.B ?? 600);
const dir = process.env.HEAP_DIR ?? '/tmp';
const dbUrl = await freshDatabase('idp_bench_tenants_heap');
const server = await startServer(
  dbUrl,
  39125,
  { PROVIDER_CACHE_SIZE: String(B * 2) },
  'dist/src/main.js',
);
const api = async (path: string, body: unknown) => {
  const r = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'x-api-key': server.operatorKey, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as { client_id: string; client_secret: string };
};
const visit = async (id: string, c: { client_id: string; client_secret: string }) => {
  for (const p of ['/.well-known/openid-configuration', '/jwks'])
    await (await fetch(`${server.url}/${id}${p}`)).arrayBuffer();
  const r = await fetch(`${server.url}/${id}/token`, {
    method: 'POST',
    headers: {
      authorization: 'Basic ' + Buffer.from(`${c.client_id}:${c.client_secret}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  if (r.status !== 200) throw new Error(`token ${r.status}`);
  await r.arrayBuffer();
};
const snapshot = async () => {
  const before = readdirSync(dir).length;
  server.process.kill('SIGUSR2');
  while (readdirSync(dir).length === before) await new Promise((r) => setTimeout(r, 500));
  await new Promise((r) => setTimeout(r, 8000));
};
try {
  const tenants: Array<[string, { client_id: string; client_secret: string }]> = [];
  for (let i = 0; i < B; i++) {
    const id = `h${i}`;
    await api('/api/v1/tenants', { tenant_id: id, display_name: id });
    tenants.push([
      id,
      await api(`/api/v1/tenants/${id}/clients`, {
        name: 'svc',
        client_type: 'confidential',
        grant_types: ['client_credentials'],
        id_token_signed_response_alg: 'EdDSA',
      }),
    ]);
  }
  for (const [id, c] of tenants.slice(0, A)) await visit(id, c);
  for (const [id, c] of tenants.slice(0, A)) await visit(id, c);
  await snapshot();
  for (const [id, c] of tenants.slice(A)) await visit(id, c);
  for (const [id, c] of tenants.slice(0, A)) await visit(id, c);
  await snapshot();
  console.log(`snapshots in ${dir}: ${A} then ${B} tenants resident`);
} finally {
  await server.stop();
}
