import { createReadStream, createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import type { Backend, Json } from './backend.js';
import { usage } from './errors.js';
import { fields, rows, secretFrom, type Io } from './io.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
}

export interface CommandContext {
  backend: Backend;
  args: string[];
  values: Record<string, string | boolean | undefined>;
  io: Io;
}

/** What a command answers: the JSON for `--json`, the text otherwise. */
export interface Outcome {
  json: unknown;
  text: string;
}

export interface Command {
  name: string;
  summary: string;
  args: string[];
  options: Record<string, OptionSpec>;
  /** Works only on the database (migrations): --url is refused. */
  databaseOnly?: boolean;
  run(ctx: CommandContext): Promise<Outcome>;
}

const PAGE: Record<string, OptionSpec> = {
  limit: { type: 'string', description: 'rows per page, 1-500 (default 50)' },
  offset: { type: 'string', description: 'rows to skip (default 0)' },
};

function int(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw usage(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

const PASSWORD: Record<string, OptionSpec> = {
  'password-env': {
    type: 'string',
    description: 'read the password from this environment variable',
  },
  'password-stdin': { type: 'boolean', description: 'read the password from standard input' },
};
const PASSPHRASE: Record<string, OptionSpec> = {
  'passphrase-env': {
    type: 'string',
    description:
      'read the transfer passphrase from this variable (default IDP_TRANSFER_PASSPHRASE)',
  },
  'passphrase-file': { type: 'string', description: 'read the transfer passphrase from this file' },
};

const password = (ctx: CommandContext) =>
  secretFrom(ctx.io, 'password', {
    env: str(ctx.values['password-env']),
    stdin: ctx.values['password-stdin'] === true,
  });
const passphrase = (ctx: CommandContext) =>
  secretFrom(
    ctx.io,
    'passphrase',
    { env: str(ctx.values['passphrase-env']), file: str(ctx.values['passphrase-file']) },
    'IDP_TRANSFER_PASSPHRASE',
  );

export const COMMANDS: Command[] = [
  {
    name: 'health',
    summary: "show the server's (or the database's) health",
    args: [],
    options: {},
    async run({ backend }) {
      const h = await backend.health();
      return {
        json: h,
        text: fields(h, ['status', 'ready', 'version', 'env', 'database', 'checks']),
      };
    },
  },
  {
    name: 'migrate',
    summary: 'apply pending database migrations (the database only)',
    args: [],
    options: {},
    databaseOnly: true,
    run: () => Promise.reject(new Error('handled by the entry point')),
  },
  {
    name: 'tenants list',
    summary: 'list tenants',
    args: [],
    options: PAGE,
    async run({ backend, values }) {
      const page = await backend.listTenants(
        int(values.limit, 'limit', 50, 1, 500),
        int(values.offset, 'offset', 0, 0, 2 ** 31),
      );
      return { json: page, text: rows(page, ['tenant_id', 'display_name', 'created_at']) };
    },
  },
  {
    name: 'tenants create',
    summary: 'create a tenant (with its signing keys)',
    args: ['tenant_id'],
    options: {
      'display-name': { type: 'string', description: 'shown on its pages (default: the id)' },
    },
    async run({ backend, args, values }) {
      const t = await backend.createTenant({
        tenant_id: args[0],
        display_name: str(values['display-name']) ?? args[0],
      });
      return { json: t, text: `created tenant ${String(t.tenant_id)}` };
    },
  },
  {
    name: 'tenants delete',
    summary: 'delete a tenant and everything it owns',
    args: ['tenant_id'],
    options: { yes: { type: 'boolean', description: 'required: confirms the deletion' } },
    async run({ backend, args, values }) {
      if (values.yes !== true) throw usage(`deleting ${args[0]} removes all its data: add --yes`);
      await backend.deleteTenant(args[0]!);
      return { json: { tenant_id: args[0], deleted: true }, text: `deleted tenant ${args[0]}` };
    },
  },
  {
    name: 'operator-keys list',
    summary: 'list operator API keys (never their values)',
    args: [],
    options: PAGE,
    async run({ backend, values }) {
      const page = await backend.listOperatorKeys(
        int(values.limit, 'limit', 50, 1, 500),
        int(values.offset, 'offset', 0, 0, 2 ** 31),
      );
      return { json: page, text: rows(page, ['key_id', 'name', 'created_at', 'last_use_at']) };
    },
  },
  {
    name: 'operator-keys create',
    summary: 'create an operator API key; its value is printed once',
    args: [],
    options: { name: { type: 'string', description: 'a name for the key (required)' } },
    async run({ backend, values }) {
      const name = str(values.name);
      if (!name) throw usage('--name is required');
      const k = await backend.createOperatorKey({ name, scopes: ['operator'] });
      return {
        json: k,
        text: `key_id: ${String(k.key_id)}\napi_key: ${String(k.api_key)}\n(store it now: it is not shown again)`,
      };
    },
  },
  {
    name: 'operator-keys revoke',
    summary: 'revoke (delete) an operator API key',
    args: ['key_id'],
    options: {},
    async run({ backend, args }) {
      await backend.revokeOperatorKey(args[0]!);
      return { json: { key_id: args[0], revoked: true }, text: `revoked key ${args[0]}` };
    },
  },
  {
    name: 'signing-keys rotate',
    summary: "rotate a tenant's signing keys (old ones verify during the grace period)",
    args: ['tenant_id'],
    options: {
      alg: { type: 'string', description: 'only this algorithm (RS256, ES256, EdDSA)' },
      'grace-seconds': {
        type: 'string',
        description: 'how long old keys keep verifying (default 86400)',
      },
    },
    async run({ backend, args, values }) {
      const body: Json = {};
      if (str(values.alg)) body.alg = values.alg;
      if (values['grace-seconds'] !== undefined)
        body.grace_seconds = int(values['grace-seconds'], 'grace-seconds', 0, 0, 2 ** 31);
      const r = await backend.rotateSigningKeys(args[0]!, body);
      const created = (r.created as Json[]).map((k) => `${String(k.alg)} ${String(k.kid)}`);
      return { json: r, text: `new keys:\n${created.join('\n')}` };
    },
  },
  {
    name: 'users create',
    summary: 'create a user',
    args: ['tenant_id', 'username'],
    options: { email: { type: 'string', description: "the user's email address" }, ...PASSWORD },
    async run(ctx) {
      const body: Json = { username: ctx.args[1] };
      if (str(ctx.values.email)) body.email = ctx.values.email;
      const pw = await password(ctx);
      if (pw !== undefined) body.password = pw;
      const u = await ctx.backend.createUser(ctx.args[0]!, body);
      return { json: u, text: `created user ${String(u.username)} (${String(u.user_id)})` };
    },
  },
  {
    name: 'users reset-password',
    summary: "set a user's password",
    args: ['tenant_id', 'username'],
    options: PASSWORD,
    async run(ctx) {
      const pw = await password(ctx);
      if (!pw) throw usage('give the new password with --password-env VAR or --password-stdin');
      const r = await ctx.backend.resetPassword(ctx.args[0]!, ctx.args[1]!, pw);
      return { json: { ...r, password_set: true }, text: `password set for ${String(r.username)}` };
    },
  },
  {
    name: 'export',
    summary: 'export a tenant as an NDJSON document (to --out or standard output)',
    args: ['tenant_id'],
    options: {
      out: { type: 'string', description: 'write the document to this file (mode 0600)' },
      secrets: { type: 'string', description: 'passphrase (default), omit or plaintext' },
      'signing-keys': { type: 'boolean', description: "include the tenant's signing keys" },
      ...PASSPHRASE,
    },
    async run(ctx) {
      const secrets = str(ctx.values.secrets) ?? 'passphrase';
      if (!['passphrase', 'omit', 'plaintext'].includes(secrets))
        throw usage('--secrets must be passphrase, omit or plaintext');
      const file = str(ctx.values.out);
      const out: Writable = file
        ? createWriteStream(file, { mode: 0o600 })
        : (ctx.io.stdout as unknown as Writable);
      await ctx.backend.exportTenant({
        tenantId: ctx.args[0]!,
        secrets: secrets as 'passphrase',
        passphrase: secrets === 'passphrase' ? await passphrase(ctx) : undefined,
        signingKeys: ctx.values['signing-keys'] === true,
        out,
      });
      if (file) {
        out.end();
        await finished(out);
      }
      const result = { tenant_id: ctx.args[0], file: file ?? null, secrets };
      return {
        json: file ? result : undefined,
        text: file ? `exported ${ctx.args[0]} to ${file}` : '',
      };
    },
  },
  {
    name: 'import',
    summary: 'import a tenant from an export document (a file, or - for standard input)',
    args: ['file'],
    options: {
      tenant: {
        type: 'string',
        description: "import under this tenant id (default: the document's)",
      },
      ...PASSPHRASE,
    },
    async run(ctx) {
      const file = ctx.args[0]!;
      const input = file === '-' ? (ctx.io.stdin as unknown as Readable) : createReadStream(file);
      const r = await ctx.backend.importTenant({
        input,
        tenantId: str(ctx.values.tenant),
        passphrase: await passphrase(ctx),
      });
      return {
        json: r,
        text: `${r.created ? 'created' : 'updated'} tenant ${String(r.tenant_id)}: ${JSON.stringify(r.counts)}`,
      };
    },
  },
];
