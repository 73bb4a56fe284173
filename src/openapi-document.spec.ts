import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * The committed openapi.json as tenant admins and SDK generators meet it (decision 0025). The
 * platform e2e suite proves the committed file is what the server generates, so a new route
 * without `@ApiOperation({ summary })`, tags or its problem responses fails here.
 */
type Operation = {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  responses: Record<string, { content?: Record<string, unknown> }>;
  'x-required-scope'?: string;
};
type Schema = { type?: string; properties?: object; additionalProperties?: unknown; $ref?: string };
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, Schema> }> };
};

const root = new URL('../', import.meta.url);
const committed = (): Document =>
  JSON.parse(readFileSync(new URL('openapi.json', root), 'utf8')) as Document;
const ignores = (
  parse(readFileSync(new URL('.redocly.lint-ignore.yaml', root), 'utf8')) as Record<
    string,
    Record<string, string[]>
  >
)['openapi.json'];
const ignored4xx = new Set<string>(ignores['operation-4xx-response']);
/** Redirect-only browser steps (forward-auth), listed with their reason in the ignore file. */
const ignored2xx = new Set<string>(ignores['operation-2xx-response'] ?? []);

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);
const ERROR_MEDIA = ['application/problem+json', 'application/scim+json'];
const pointer = (path: string, method: string) =>
  `#/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}/responses`;

/** Every way an operation breaks the convention, as `METHOD path: what`. */
function conventionViolations(doc: Document): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const at = `${method.toUpperCase()} ${path}`;
      if (!op.summary?.trim()) out.push(`${at}: no summary (@ApiOperation({ summary }))`);
      if (!op.tags?.length) out.push(`${at}: no tags (@ApiTags on the controller)`);
      if (!Array.isArray(op.security)) out.push(`${at}: no security (@Authenticated or @Public)`);
      if (op['x-required-scope'] === 'public' && op.security?.length !== 0)
        out.push(`${at}: public but security is not []`);
      const statuses = Object.keys(op.responses);
      if (!statuses.some((s) => /^2\d\d$/.test(s)) && !ignored2xx.has(pointer(path, method)))
        out.push(`${at}: no 2xx response`);
      if (!statuses.some((s) => /^4\d\d$/.test(s)) && !ignored4xx.has(pointer(path, method)))
        out.push(`${at}: no 4xx response (@ApiProblems)`);
      for (const s of statuses.filter((x) => /^[45]\d\d$/.test(x))) {
        const content = (op.responses[s].content ?? {}) as Record<string, { schema?: Schema }>;
        const oauth = content['application/json']?.schema?.$ref?.endsWith('/OAuthErrorDto');
        if (!oauth && !Object.keys(content).some((m) => ERROR_MEDIA.includes(m)))
          out.push(`${at}: ${s} is not documented as a problem (@ApiProblems)`);
      }
    }
  }
  // `string | null` reflects as Object: without `type: String` a typed client gets `{}`.
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    for (const [prop, p] of Object.entries(schema.properties ?? {})) {
      if (p.type === 'object' && !p.properties && p.additionalProperties === undefined)
        out.push(`schema ${name}.${prop}: untyped object (give @ApiProperty a type)`);
    }
  }
  return out;
}

describe('committed OpenAPI document', () => {
  it('every operation has a summary, tags, security, a 2xx and its problem responses', () => {
    expect(conventionViolations(committed())).toEqual([]);
  });

  it('the check catches an operation without a summary or problems', () => {
    const doc = committed();
    const op = doc.paths['/api/v1/tenants/{tenant_id}/users'].post;
    delete op.summary;
    delete op.responses['404'].content;
    op.security = undefined;
    expect(conventionViolations(doc)).toEqual([
      'POST /api/v1/tenants/{tenant_id}/users: no summary (@ApiOperation({ summary }))',
      'POST /api/v1/tenants/{tenant_id}/users: no security (@Authenticated or @Public)',
      'POST /api/v1/tenants/{tenant_id}/users: 404 is not documented as a problem (@ApiProblems)',
    ]);
  });

  it('the check catches a nullable property without its type', () => {
    const doc = committed();
    doc.components.schemas.CreateUserDto.properties!.email = { type: 'object' };
    expect(conventionViolations(doc)).toEqual([
      'schema CreateUserDto.email: untyped object (give @ApiProperty a type)',
    ]);
  });

  it('public operations say so with an explicit empty security requirement', () => {
    const health = committed().paths['/health'].get;
    expect(health.security).toEqual([]);
    expect(health.summary).toBeTruthy();
  });

  it('is clean under `redocly lint` with the recommended rules (npm run lint:openapi)', () => {
    const cli = new URL('node_modules/@redocly/cli/bin/cli.js', root).pathname;
    let out: string;
    try {
      out = execFileSync(process.execPath, [cli, 'lint', '--format=json'], {
        cwd: root.pathname,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      out = (err as { stdout: string }).stdout;
    }
    const report = JSON.parse(out) as {
      totals: { errors: number; warnings: number; ignored: number };
      problems: Array<{ ruleId: string; message: string }>;
    };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });
});
