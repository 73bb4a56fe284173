import { execFileSync } from 'node:child_process';
import ts from 'typescript';
import { createApiClient, findUser, provisionTenant } from './client/api-client.js';
import { startTestApp, uniqueTenantId, type TestApp } from './harness.js';

/**
 * The API document generates a typed client that compiles and works (decision 0025):
 * test/generated/api.d.ts is what openapi-typescript makes of today's openapi.json, the client
 * in test/client/ compiles on its own under strict settings (and a typo in it does not), and it
 * creates a tenant and lists its users on a running server.
 */
const root = new URL('../', import.meta.url).pathname;
const clientFile = `${root}test/client/api-client.ts`;

const options: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2023,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  types: [],
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
};

/** tsc on the client plus one file held in memory beside it: the diagnostics of each. */
function compile(extra: { name: string; text: string }): { client: string[]; extra: string[] } {
  const host = ts.createCompilerHost(options);
  const path = `${root}test/client/${extra.name}`;
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => f === path || fileExists(f);
  host.readFile = (f) => (f === path ? extra.text : readFile(f));
  host.getSourceFile = (f, lang, ...rest) =>
    f === path ? ts.createSourceFile(f, extra.text, lang) : getSourceFile(f, lang, ...rest);
  const program = ts.createProgram([clientFile, path], options, host);
  const messages = (file: string) =>
    ts
      .getPreEmitDiagnostics(program, program.getSourceFile(file))
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  return { client: messages(clientFile), extra: messages(path) };
}

describe('typed client generated from openapi.json', () => {
  it('test/generated/api.d.ts is what openapi-typescript makes of openapi.json (`npm run openapi`)', () => {
    // --check exits non-zero when the committed types differ from a fresh generation.
    execFileSync(
      process.execPath,
      [`${root}node_modules/openapi-typescript/bin/cli.js`, '--check'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  });

  it('the client compiles under strict settings, and a wrong field or path does not', () => {
    const { client, extra: typo } = compile({
      name: 'typo.ts',
      text: `import { createApiClient } from './api-client.js';
        export async function typo() {
          const api = createApiClient('http://localhost', 'key');
          await api.POST('/api/v1/tenants/{tenant_id}/users', {
            params: { path: { tenant_id: 't' } },
            body: { user_name: 'alice' },
          });
          await api.GET('/api/v1/tenants/{tenant_id}/user', { params: { path: { tenant_id: 't' } } });
        }`,
    });
    expect(client).toEqual([]);
    expect(typo.join('\n')).toMatch(/user_name/);
    expect(typo.join('\n')).toMatch(/\{tenant_id\}\/user"' is not assignable/);
  });

  describe('against a running server', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(() => t.close());

    it('creates a tenant, a user, and lists the users', async () => {
      const api = createApiClient(t.baseUrl, t.operatorKey);
      const tenantId = uniqueTenantId('typed');
      const result = await provisionTenant(api, tenantId, 'ada');
      expect(result.displayName).toBe(`Tenant ${tenantId}`);
      expect(result.total).toBe(1);
      expect(result.users.map((u) => [u.username, u.email, u.locale])).toEqual([
        ['ada', 'ada@example.test', 'en-US'],
      ]);

      const found = await findUser(api, tenantId, 'ADA');
      expect([found.status, found.user?.user_id]).toEqual([200, result.users[0].user_id]);
      const missing = await findUser(api, tenantId, 'nobody');
      expect(missing.status).toBe(404);
      expect(missing.problem).toMatchObject({ type: 'urn:idp:problem:not-found', status: 404 });
    });
  });
});
