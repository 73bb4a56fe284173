import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { isObject, requireMessageSchema } from './scim.document.js';
import type { UserEntity } from '../users/user.entity.js';
import { invalidSyntax, invalidValue, ScimError, toScimError } from './scim.errors.js';
import { etagOf } from './scim-users.mapper.js';
import { LIMITS, SCHEMA_BULK_REQUEST, SCHEMA_BULK_RESPONSE } from './scim.schemas.js';
import { ScimGroupsService } from './scim-groups.service.js';
import { ScimUsersService, type Written } from './scim-users.service.js';
import { PasswordHasher, tooManyPasswords } from '../users/password-hasher.js';

export type Method = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface BulkOp {
  index: number;
  method: Method;
  bulkId?: string;
  path: string;
  data?: unknown;
  version?: string;
}

interface BulkResult {
  method: string;
  bulkId?: string;
  location?: string;
  version?: string;
  status: string;
  response?: unknown;
}

/** One operation's audit event, staged before it runs: `ok` once it succeeded, `failed` else. */
export interface BulkAuditEntry {
  /** `details`: what only the result tells, merged into the event's details. */
  ok(subjectId: string, details?: Record<string, unknown>): Promise<void>;
  failed(): Promise<void>;
}

/**
 * Stages the audit event of an operation before its transaction commits, so the commit carries
 * it (decision 0023): a committed operation has its event, a failed one none. `subjectId` is
 * null for a create, whose id the first inserted row of its table names.
 */
export interface BulkAudit {
  begin(resource: 'user' | 'group', method: Method, subjectId: string | null): BulkAuditEntry;
}

const NO_AUDIT: BulkAudit = {
  begin: () => ({ ok: async () => {}, failed: async () => {} }),
};

const BULK_REF = /^bulkId:(.+)$/;

/** Every "bulkId:x" a value or path refers to. */
function refsOf(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    const m = BULK_REF.exec(value);
    if (m) out.add(m[1]);
    for (const seg of value.split('/')) {
      const s = BULK_REF.exec(seg);
      if (s) out.add(s[1]);
    }
  } else if (Array.isArray(value)) {
    for (const v of value) refsOf(v, out);
  } else if (isObject(value)) {
    for (const v of Object.values(value)) refsOf(v, out);
  }
  return out;
}

function substitute(value: unknown, ids: Map<string, string>): unknown {
  if (typeof value === 'string') {
    const m = BULK_REF.exec(value);
    if (m && ids.has(m[1])) return ids.get(m[1]);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, ids));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substitute(v, ids);
    return out;
  }
  return value;
}

/**
 * Whether an operation's data sets a password: a "password" attribute anywhere in it, or a
 * PATCH operation whose path is "password" (attribute names are case-insensitive in SCIM).
 */
const PASSWORD_ATTR = /(^|:)password$/i;

function carriesPassword(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(carriesPassword);
  if (!isObject(value)) return false;
  return Object.entries(value).some(
    ([k, v]) =>
      PASSWORD_ATTR.test(k) ||
      (k.toLowerCase() === 'path' && typeof v === 'string' && PASSWORD_ATTR.test(v.trim())) ||
      carriesPassword(v),
  );
}

class StopAt extends Error {
  constructor(readonly position: number) {
    super('bulk cut');
  }
}

/**
 * SCIM Bulk (RFC 7644 §3.7). Operations run in order, each on its own (they are not atomic as a
 * whole), except that runs of user creations are validated one by one and then inserted with
 * one multi-row statement: that is what makes an HR system's initial load fast. Operations
 * referring to a bulkId wait until that resource exists; failOnErrors stops processing.
 */
@Injectable()
export class ScimBulkService {
  constructor(
    private readonly users: ScimUsersService,
    private readonly groups: ScimGroupsService,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
  ) {}

  async run(tenantId: string, body: unknown, audit: BulkAudit = NO_AUDIT) {
    const msg = requireMessageSchema(body, SCHEMA_BULK_REQUEST);
    const field = (name: string) =>
      msg[Object.keys(msg).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name];
    const rawOps = field('Operations');
    if (!Array.isArray(rawOps) || rawOps.length === 0)
      throw invalidSyntax('"Operations" must be a non-empty list');
    if (rawOps.length > LIMITS.bulkMaxOperations) {
      throw new ScimError(
        413,
        `At most ${LIMITS.bulkMaxOperations} operations per Bulk request`,
        'tooMany',
      );
    }
    // Each password is a bcrypt hash: bound what one request may queue (decision 0016).
    const passwords = rawOps.filter((op) => carriesPassword(op)).length;
    if (passwords > this.hasher.maxPerRequest)
      throw new ScimError(413, tooManyPasswords(passwords, this.hasher.maxPerRequest), 'tooMany');
    const failOnErrors = field('failOnErrors');
    if (
      failOnErrors !== undefined &&
      (!Number.isInteger(failOnErrors) || (failOnErrors as number) < 1)
    ) {
      throw invalidValue('failOnErrors must be a positive integer');
    }
    const state = new BulkRun(
      tenantId,
      (failOnErrors as number | undefined) ?? Infinity,
      this.users,
      this.groups,
      this.dataSource,
      audit,
    );
    await state.execute(rawOps);
    return { schemas: [SCHEMA_BULK_RESPONSE], Operations: state.responses() };
  }
}

class BulkRun {
  private readonly results = new Map<number, BulkResult>();
  private readonly ids = new Map<string, string>();
  private readonly failed = new Set<string>();
  private errors = 0;
  private stopped = false;

  constructor(
    private readonly tenantId: string,
    private readonly failOnErrors: number,
    private readonly users: ScimUsersService,
    private readonly groups: ScimGroupsService,
    private readonly dataSource: DataSource,
    private readonly audit: BulkAudit,
  ) {}

  responses(): BulkResult[] {
    return [...this.results.entries()].toSorted((a, b) => a[0] - b[0]).map(([, r]) => r);
  }

  private fail(op: { index: number; method: string; bulkId?: string }, error: unknown) {
    const e = toScimError(error);
    if (op.bulkId) this.failed.add(op.bulkId);
    this.results.set(op.index, {
      method: op.method,
      ...(op.bulkId ? { bulkId: op.bulkId } : {}),
      status: String(e.status),
      response: e.toJSON(),
    });
    if (++this.errors >= this.failOnErrors) this.stopped = true;
  }

  private succeed(op: BulkOp, status: number, w?: Written, type?: 'Users' | 'Groups') {
    if (op.bulkId && w) this.ids.set(op.bulkId, w.id);
    this.results.set(op.index, {
      method: op.method,
      ...(op.bulkId ? { bulkId: op.bulkId } : {}),
      ...(w && type
        ? {
            location: `${this.users.base(this.tenantId)}/${type}/${w.id}`,
            version: etagOf(w.version),
          }
        : {}),
      status: String(status),
    });
  }

  private parse(raw: unknown[]): BulkOp[] {
    const ops: BulkOp[] = [];
    const seen = new Set<string>();
    for (const [index, r] of raw.entries()) {
      if (this.stopped) break;
      const fields: Record<string, unknown> = {};
      if (isObject(r)) for (const [k, v] of Object.entries(r)) fields[k.toLowerCase()] = v;
      const method = typeof fields.method === 'string' ? fields.method.toUpperCase() : '';
      const bulkId = typeof fields.bulkid === 'string' ? fields.bulkid : undefined;
      const head = { index, method: method || 'UNKNOWN', bulkId };
      if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) {
        this.fail(
          head,
          invalidSyntax(`Operations[${index}].method must be POST, PUT, PATCH or DELETE`),
        );
        continue;
      }
      if (typeof fields.path !== 'string' || !/^\/(Users|Groups)(\/[^/]+)?$/i.test(fields.path)) {
        this.fail(
          head,
          new ScimError(
            400,
            `Operations[${index}].path must be /Users, /Groups or one of their resources`,
            'invalidPath',
          ),
        );
        continue;
      }
      if (method === 'POST' && !bulkId) {
        this.fail(head, invalidSyntax(`Operations[${index}]: a POST needs a bulkId`));
        continue;
      }
      if (bulkId && seen.has(bulkId)) {
        this.fail(head, invalidValue(`bulkId ${JSON.stringify(bulkId)} is used twice`));
        continue;
      }
      if (bulkId) seen.add(bulkId);
      const version = typeof fields.version === 'string' ? fields.version : undefined;
      ops.push({
        index,
        method: method as Method,
        bulkId,
        path: fields.path,
        data: fields.data,
        version,
      });
    }
    return ops;
  }

  async execute(raw: unknown[]) {
    let pending = this.parse(raw);
    const defined = new Set(
      pending.filter((o) => o.method === 'POST' && o.bulkId).map((o) => o.bulkId!),
    );
    while (pending.length && !this.stopped) {
      const ready: BulkOp[] = [];
      const waiting: BulkOp[] = [];
      for (const op of pending) {
        const refs = [...refsOf([op.path, op.data])];
        if (refs.every((r) => this.ids.has(r))) ready.push(op);
        else if (refs.some((r) => !defined.has(r) || this.failed.has(r))) {
          this.fail(
            op,
            new ScimError(
              409,
              `Operation refers to a bulkId that was not created: ${refs.filter((r) => !this.ids.has(r)).join(', ')}`,
              'invalidValue',
            ),
          );
          if (this.stopped) return;
        } else waiting.push(op);
      }
      if (!ready.length) {
        for (const op of waiting) {
          if (this.stopped) return;
          this.fail(op, new ScimError(409, 'Circular bulkId references', 'invalidValue'));
        }
        return;
      }
      for (let i = 0; i < ready.length && !this.stopped;) {
        if (isUserCreate(ready[i])) {
          let j = i;
          while (j < ready.length && isUserCreate(ready[j])) j++;
          await this.createUsers(ready.slice(i, j));
          i = j;
        } else {
          await this.single(ready[i]);
          i++;
        }
      }
      pending = waiting;
    }
  }

  private async single(op: BulkOp) {
    const [, type, rawId] = /^\/(Users|Groups)(?:\/([^/]+))?$/i.exec(op.path)!;
    const kind = type.toLowerCase() === 'users' ? 'Users' : 'Groups';
    const service = kind === 'Users' ? this.users : this.groups;
    const id = rawId ? (substitute(rawId, this.ids) as string) : undefined;
    const data = substitute(op.data, this.ids);
    const event = this.audit.begin(kind === 'Users' ? 'user' : 'group', op.method, id ?? null);
    try {
      if (op.method === 'POST') {
        if (id) throw new ScimError(400, 'POST goes to /Users or /Groups', 'invalidPath');
        const w = await service.create(this.tenantId, data);
        await event.ok(w.id);
        this.succeed(op, 201, w, kind);
        return;
      }
      if (!id) throw new ScimError(400, `${op.method} needs /${kind}/<id>`, 'invalidPath');
      if (op.method === 'PUT') {
        const w = await service.replace(this.tenantId, id, data, op.version);
        await event.ok(id);
        this.succeed(op, 200, w, kind);
      } else if (op.method === 'PATCH') {
        const w =
          kind === 'Users'
            ? await this.users.patch(this.tenantId, id, data, op.version)
            : await this.groups.patch(this.tenantId, id, data, op.version, false);
        await event.ok(id);
        this.succeed(op, 200, w, kind);
      } else {
        await service.remove(this.tenantId, id, op.version);
        await event.ok(id);
        this.succeed(op, 204);
      }
    } catch (e) {
      await event.failed();
      this.fail(op, e);
    }
  }

  /** A run of user creations: validated one by one, inserted together. */
  private async createUsers(ops: BulkOp[]) {
    const prepared = await Promise.allSettled(
      ops.map((op) => this.users.prepareCreate(this.tenantId, substitute(op.data, this.ids))),
    );
    const managerIds = prepared.flatMap((p) =>
      p.status === 'fulfilled' && p.value.managerId ? [p.value.managerId] : [],
    );
    const managers = await this.users.existingIds(this.tenantId, managerIds);
    for (const [i, p] of prepared.entries()) {
      if (p.status === 'fulfilled' && p.value.managerId && !managers.has(p.value.managerId)) {
        prepared[i] = {
          status: 'rejected',
          reason: invalidValue(`manager: no user ${p.value.managerId} in this tenant`),
        };
      }
    }
    // Outcomes in request order, so failOnErrors cuts where it would have one by one.
    const rows: Array<{ op: BulkOp; row: UserEntity }> = [];
    let errorsSoFar = this.errors;
    let cut = ops.length;
    for (const [i, p] of prepared.entries()) {
      if (p.status === 'rejected') {
        if (++errorsSoFar >= this.failOnErrors) {
          cut = i + 1;
          break;
        }
      } else rows.push({ op: ops[i], row: p.value.row });
    }
    let candidates = rows.filter((r) => r.op.index <= ops[cut - 1].index);
    let inserted = new Set<string>();
    let events: BulkAuditEntry[] = [];
    for (;;) {
      try {
        inserted = await this.dataSource.transaction(async (m) => {
          const done = await this.users.insertMany(
            this.tenantId,
            candidates.map((c) => c.row),
            m,
          );
          // A duplicate is an error too: if it reaches failOnErrors, nothing after it may stay.
          let errs = this.errors;
          for (const [i, p] of prepared.entries()) {
            if (i >= cut) break;
            const failedHere = p.status === 'rejected' || !done.has(p.value.row.user_id);
            if (failedHere && ++errs >= this.failOnErrors) {
              if (candidates.some((c) => c.op.index > ops[i].index)) throw new StopAt(i + 1);
              break;
            }
          }
          // Each created user's event, in this transaction: it commits with the rows.
          events = candidates
            .filter((c) => done.has(c.row.user_id))
            .map((c) => this.audit.begin('user', 'POST', c.row.user_id));
          return done;
        });
        break;
      } catch (e) {
        for (const event of events.splice(0)) await event.failed();
        if (e instanceof StopAt) {
          cut = e.position;
          candidates = candidates.filter((c) => c.op.index <= ops[cut - 1].index);
          continue;
        }
        // One statement failing for a reason other than a duplicate: report it on each operation.
        for (const op of ops.slice(0, cut)) this.fail(op, e);
        return;
      }
    }
    for (const [i, p] of prepared.entries()) {
      if (i >= cut) break;
      const op = ops[i];
      if (p.status === 'rejected') this.fail(op, p.reason);
      else if (inserted.has(p.value.row.user_id)) {
        this.succeed(op, 201, { id: p.value.row.user_id, version: 1, resource: {} }, 'Users');
      } else this.fail(op, await this.users.conflictOf(this.tenantId, p.value.row));
      if (this.stopped) return;
    }
  }
}

function isUserCreate(op: BulkOp) {
  return op.method === 'POST' && /^\/Users$/i.test(op.path);
}
