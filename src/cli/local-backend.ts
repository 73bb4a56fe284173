import { randomUUID } from 'node:crypto';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { DataSource } from 'typeorm';
import { crossTenant } from '../../libs/tenancy/index.js';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { CreateApiKeyDto } from '../api-keys/dto/api-key.dto.js';
import type { Principal } from '../auth/scopes.js';
import { ListQuery } from '../common/pagination.js';
import type { AppConfig } from '../config/config.js';
import { RotateSigningKeysDto } from '../signing-keys/dto/signing-key.dto.js';
import { SigningKeysService } from '../signing-keys/signing-keys.service.js';
import { CreateTenantDto, TenantListQuery } from '../tenants/dto/tenant.dto.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { TransferService } from '../transfer/transfer.service.js';
import { CreateUserDto } from '../users/dto/user.dto.js';
import { UsersService } from '../users/users.service.js';
import type { Backend, ExportRequest, ImportRequest, Json } from './backend.js';
import { CliError, EXIT } from './errors.js';
import { pipeline } from 'node:stream/promises';

/** The CLI on the database itself acts with an operator's reach, as whoever runs it on the host. */
const CLI_OPERATOR: Principal = {
  holder: 'operator',
  credentialId: `cli:${randomUUID()}`,
  tenantId: null,
  userId: null,
  scopes: new Set(['operator']),
};

/** The same rules as the API's validation pipe: unknown fields and bad values are refused. */
async function validated<T extends object>(dto: Type<T>, body: Json): Promise<T> {
  const value = plainToInstance(dto, body);
  const errors = await validate(value, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length) {
    const list = errors.flatMap((e) =>
      Object.values(e.constraints ?? {}).map((message) => ({ field: e.property, message })),
    );
    throw new CliError(
      `${list.length} field${list.length === 1 ? '' : 's'} failed validation: ${list.map((e) => e.message).join('; ')}`,
      EXIT.invalid,
      { errors: list },
    );
  }
  return value;
}

/** The application's own services on the database of DATABASE_URL (or the embedded one). */
export class LocalBackend implements Backend {
  readonly mode = 'database' as const;

  constructor(
    private readonly app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {}

  async health(): Promise<Json> {
    const ds = this.app.get(DataSource);
    await crossTenant(ds).sql('cli_health_ping', 'SELECT 1');
    const pending = await ds.showMigrations();
    return {
      status: 'ok',
      version: this.config.version,
      env: this.config.env,
      database: this.config.databaseUrl ? 'postgresql' : 'pglite',
      checks: { database: 'ok', migrations: pending ? 'pending' : 'ok' },
    };
  }

  async listTenants(limit: number, offset: number) {
    const q = await validated(TenantListQuery, {});
    Object.assign(q, { limit, offset });
    return (await this.app.get(TenantsService).list(q)) as unknown as Json;
  }

  async createTenant(body: Json) {
    const dto = await validated(CreateTenantDto, body);
    return (await this.app.get(TenantsService).create(dto)) as unknown as Json;
  }

  deleteTenant(tenantId: string) {
    return this.app.get(TenantsService).remove(tenantId);
  }

  async listOperatorKeys(limit: number, offset: number) {
    const q = Object.assign(new ListQuery(), { limit, offset });
    return (await this.app.get(ApiKeysService).list(null, q)) as unknown as Json;
  }

  async createOperatorKey(body: Json) {
    const dto = await validated(CreateApiKeyDto, body);
    return (await this.app.get(ApiKeysService).create(CLI_OPERATOR, null, dto)) as unknown as Json;
  }

  revokeOperatorKey(keyId: string) {
    return this.app.get(ApiKeysService).remove(CLI_OPERATOR, null, keyId);
  }

  async rotateSigningKeys(tenantId: string, body: Json) {
    if (!(await this.app.get(TenantsService).exists(tenantId))) {
      throw new CliError('Tenant not found', EXIT.notFound);
    }
    const dto = await validated(RotateSigningKeysDto, body);
    return (await this.app.get(SigningKeysService).rotate(tenantId, dto)) as unknown as Json;
  }

  async createUser(tenantId: string, body: Json) {
    await this.app.get(TenantsService).get(tenantId);
    const dto = await validated(CreateUserDto, body);
    return (await this.app.get(UsersService).create(tenantId, dto)) as unknown as Json;
  }

  async resetPassword(tenantId: string, username: string, password: string) {
    const users = this.app.get(UsersService);
    await this.app.get(TenantsService).get(tenantId);
    const user = await users.getByUsername(tenantId, username);
    await users.setPassword(tenantId, user.user_id, password);
    return { tenant_id: tenantId, user_id: user.user_id, username: user.username };
  }

  async exportTenant(r: ExportRequest) {
    const stream = await this.app.get(TransferService).export(r.tenantId, {
      secrets: r.secrets,
      passphrase: r.passphrase,
      signingKeys: r.signingKeys,
    });
    await pipeline(stream, r.out, { end: false });
  }

  async importTenant(r: ImportRequest) {
    return (await this.app.get(TransferService).import(r.input, {
      tenantId: r.tenantId,
      passphrase: r.passphrase,
    })) as unknown as Json;
  }

  close() {
    return this.app.close();
  }
}
