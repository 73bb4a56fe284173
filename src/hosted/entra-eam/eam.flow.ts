import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import { SecretBox } from '../../../libs/crypto/index.js';
import { AuditService } from '../../audit/audit.service.js';
import { BlockerService } from '../../blocker/blocker.service.js';
import { ClientsService } from '../../clients/clients.service.js';
import { DomainError } from '../../common/domain-error.js';
import { guardedFetch } from '../../common/outbound-url.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { TotpService } from '../../mfa/totp.service.js';
import { PasskeysService } from '../../passkeys/passkeys.service.js';
import { SigningKeysService } from '../../signing-keys/signing-keys.service.js';
import { policyOf } from '../../pin-pattern/pin-pattern-policy.js';
import { METHOD, PinPatternService } from '../../pin-pattern/pin-pattern.service.js';
import type { EamMethod } from '../../tenants/dto/entra-eam.dto.js';
import { DEFAULT_EAM_ACR_METHODS, type EntraEam } from '../../tenants/tenant-settings.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import { UsersService } from '../../users/users.service.js';

/** What Entra's request carries, once checked; sealed into the flow the MFA page posts back. */
export interface EamFlow {
  flowId: string;
  tenantId: string;
  clientId: string;
  redirectUri: string;
  state?: string;
  nonce?: string;
  userId: string;
  username: string;
  /** The hint's subject claims, returned as Entra requires (sub, oid, tid). */
  hint: { sub: string; oid?: string; tid?: string };
  /**
   * The second factors this user can use here (tenant's `methods` ∩ what the user has ∩ what
   * reaches a requested acr), each with the acr it answers: the first requested one it reaches.
   */
  methods: EamMethod[];
  acrs: Partial<Record<EamMethod, string>>;
  expiresAt: number;
}

const FLOW_TTL_MS = 10 * 60_000;

/** The auth_req_id a flow's PIN/pattern sign-in binds its nonce to (never an interaction uid). */
export const pinPatternRequestId = (flow: Pick<EamFlow, 'flowId'>) => `eam-${flow.flowId}`;

/** The amr of a TOTP code and of a passkey, as Entra reads them. */
export const AMR_OF = { totp: ['otp'], passkey: ['fido', 'hwk'] } as const;
const JWKS_CACHE = 200;

export const eamError = (message: string) =>
  new DomainError('invalid', 'entra-eam-request', message, { title: 'Request refused' });

/**
 * Microsoft Entra ID external authentication method (EAM): Entra sends the user here with an
 * `id_token_hint` it signed; the hint is checked against the tenant's configured Entra issuer
 * and JWKS, mapped to a user of the tenant, the user proves a second factor on the hosted page,
 * and an ID token with the requested `acr` and `amr` is form-posted back to Entra.
 */
@Injectable()
export class EamFlowService {
  private readonly box: SecretBox;
  private readonly jwks = new LRUCache<string, ReturnType<typeof createRemoteJWKSet>>({
    max: JWKS_CACHE,
  });

  constructor(
    private readonly tenants: TenantsService,
    private readonly clients: ClientsService,
    private readonly users: UsersService,
    private readonly totp: TotpService,
    private readonly passkeys: PasskeysService,
    private readonly blocker: BlockerService,
    private readonly keys: SigningKeysService,
    private readonly audit: AuditService,
    private readonly pinPattern: PinPatternService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.box = new SecretBox(config.masterKey);
  }

  private async settings(tenantId: string): Promise<EntraEam> {
    const eam = (await this.tenants.settings(tenantId)).entra_eam;
    if (!eam?.enabled || !eam.issuer || !eam.jwks_uri || !eam.client_id) {
      throw new DomainError('not-found', 'not-found', 'External MFA is not set up here');
    }
    return eam;
  }

  /** Cached per JWKS URL; jose refetches on an unknown kid (with its cooldown). */
  private keySet(uri: string) {
    let set = this.jwks.get(uri);
    if (!set) {
      const fetcher = guardedFetch({ allowPrivate: this.config.outboundAllowPrivate });
      set = createRemoteJWKSet(new URL(uri), {
        timeoutDuration: 5000,
        [customFetch]: (url: string, init: { headers?: Headers; method?: string }) =>
          fetcher(url, init),
      });
      this.jwks.set(uri, set);
    }
    return set;
  }

  /** The authorize request from Entra, checked; a flow for the MFA page. */
  async start(tenantId: string, params: Record<string, string | undefined>): Promise<EamFlow> {
    const eam = await this.settings(tenantId);
    if (params.response_type !== 'id_token') throw eamError('response_type must be id_token');
    if (params.client_id !== eam.client_id) throw eamError('unknown client_id');
    const client = await this.clients.getProviderMetadata(tenantId, params.client_id);
    const redirects = (client?.redirect_uris as string[] | undefined) ?? [];
    // Exact match against the client's registered redirect URIs, as for any authorization.
    if (!params.redirect_uri || !redirects.includes(params.redirect_uri)) {
      throw eamError('redirect_uri is not registered for this client');
    }
    if (!params.id_token_hint) throw eamError('id_token_hint is required');
    let hint: JWTPayload;
    try {
      ({ payload: hint } = await jwtVerify(params.id_token_hint, this.keySet(eam.jwks_uri!), {
        issuer: eam.issuer!,
        audience: eam.client_id!,
        algorithms: ['RS256'],
        clockTolerance: 60,
      }));
    } catch {
      throw eamError('id_token_hint is not a valid token from the configured Entra tenant');
    }
    const wanted = this.requestedAcrs(params.claims, eam.accepted_acr);
    const login = [hint.preferred_username, hint.upn, hint.email].find(
      (v): v is string => typeof v === 'string' && v.length > 0,
    );
    const user = login ? await this.users.findForLogin(tenantId, login) : null;
    if (!user || user.is_disabled || typeof hint.sub !== 'string') {
      throw eamError('the user named by the hint has no active account here');
    }
    const acrs = this.acrsOf(eam, wanted);
    const methods = await this.methodsOf(
      tenantId,
      user.user_id,
      eam.methods.filter((m): m is EamMethod => m in acrs),
    );
    if (!methods.length) {
      throw eamError('the user has no second factor here that reaches the requested acr');
    }
    return {
      flowId: randomBytes(16).toString('base64url'),
      tenantId,
      clientId: eam.client_id!,
      redirectUri: params.redirect_uri,
      state: params.state,
      nonce: params.nonce,
      userId: user.user_id,
      username: user.username,
      hint: {
        sub: hint.sub,
        oid: typeof hint.oid === 'string' ? hint.oid : undefined,
        tid: typeof hint.tid === 'string' ? hint.tid : undefined,
      },
      methods,
      acrs: Object.fromEntries(methods.map((m) => [m, acrs[m]])),
      expiresAt: Date.now() + FLOW_TTL_MS,
    };
  }

  /**
   * For each method, the first of the wanted acr values it reaches (acr_methods; an acr without
   * an entry is reached by every method).
   */
  private acrsOf(eam: EntraEam, wanted: string[]): Partial<Record<EamMethod, string>> {
    const mapping = eam.acr_methods ?? DEFAULT_EAM_ACR_METHODS;
    const out: Partial<Record<EamMethod, string>> = {};
    for (const acr of wanted) {
      const entry = mapping.find((e) => e.acr === acr);
      for (const m of eam.methods as EamMethod[]) {
        if (out[m] === undefined && (!entry || entry.methods.includes(m))) out[m] = acr;
      }
    }
    return out;
  }

  private async methodsOf(tenantId: string, userId: string, allowed: EamMethod[]) {
    const out: EamFlow['methods'] = [];
    if (allowed.includes('totp') && (await this.totp.hasSecondFactor(tenantId, userId))) {
      out.push('totp');
    }
    if (allowed.includes('passkey') && (await this.passkeys.hasPasskey(tenantId, userId))) {
      out.push('passkey');
    }
    if (
      allowed.includes('pin_pattern') &&
      policyOf(await this.tenants.settings(tenantId)) &&
      (await this.pinPattern.status(tenantId, userId)).enrolled
    ) {
      out.push('pin_pattern');
    }
    return out;
  }

  /** Assertion options for the flow's user's passkeys (their username narrows the list). */
  passkeyOptions(flow: EamFlow) {
    if (!flow.methods.includes('passkey')) throw eamError('passkeys are not offered here');
    return this.passkeys.authenticationOptions(flow.tenantId, flow.username);
  }

  /** A passkey assertion of the flow's user (another user's passkey does not count). */
  async verifyPasskey(
    flow: EamFlow,
    challengeId: unknown,
    raw: unknown,
    ip: string | null,
  ): Promise<boolean | 'blocked'> {
    if (!flow.methods.includes('passkey')) return false;
    const who = { ip, username: flow.username };
    const check = await this.blocker.check(flow.tenantId, who);
    if (check.blocked) return 'blocked';
    let userId: string | undefined;
    try {
      const response = typeof raw === 'string' && raw.length < 32_768 ? JSON.parse(raw) : null;
      if (response && typeof response === 'object' && typeof challengeId === 'string') {
        userId = await this.passkeys.verifyAuthentication(flow.tenantId, challengeId, response);
      }
    } catch (err) {
      if (!(err instanceof DomainError) && !(err instanceof SyntaxError)) throw err;
    }
    return this.settle(flow, userId === flow.userId, who, check, 'passkey');
  }

  /**
   * A PIN/pattern proof: the nonce the hosted script got from the OPAQUE sign-in
   * (`/<t>/authn/zkp/challenge` and `authenticate` with `auth_req_id` = pinPatternRequestId),
   * for the flow's user only. Wrong PINs are counted where they are checked (PinPatternService).
   */
  async verifyPinPattern(
    flow: EamFlow,
    nonce: unknown,
    ip: string | null,
  ): Promise<string[] | false | 'blocked'> {
    if (!flow.methods.includes('pin_pattern')) return false;
    const who = { ip, username: flow.username };
    const check = await this.blocker.check(flow.tenantId, who);
    if (check.blocked) return 'blocked';
    const proved = await this.pinPattern.redeemNonce(
      flow.tenantId,
      nonce,
      pinPatternRequestId(flow),
    );
    const ok = proved !== undefined && proved.userId === flow.userId;
    return (await this.settle(flow, ok, who, check, 'pin_pattern')) && proved!.amr;
  }

  /** The acr values Entra asks for in `claims`, in its order, that this tenant accepts. */
  private requestedAcrs(claims: string | undefined, accepted: string[]): string[] {
    let wanted: unknown[] = [];
    try {
      const parsed = claims ? (JSON.parse(claims) as Record<string, any>) : {};
      const acr = parsed?.id_token?.acr;
      wanted = Array.isArray(acr?.values) ? acr.values : acr?.value ? [acr.value] : [];
    } catch {
      throw eamError('claims is not valid JSON');
    }
    if (!wanted.length) return [accepted[0]];
    const match = wanted.filter((v): v is string => typeof v === 'string' && accepted.includes(v));
    if (!match.length) throw eamError('none of the requested acr values is offered here');
    return match;
  }

  seal(flow: EamFlow): string {
    return this.box.seal(JSON.stringify(flow), `eam:${flow.tenantId}:${flow.flowId}`);
  }

  open(tenantId: string, flowId: string, sealed: unknown): EamFlow {
    if (typeof sealed !== 'string' || sealed.length > 8192) throw eamError('the sign-in expired');
    let flow: EamFlow;
    try {
      flow = JSON.parse(this.box.openString(sealed, `eam:${tenantId}:${flowId}`)) as EamFlow;
    } catch {
      throw eamError('the sign-in expired');
    }
    if (flow.expiresAt < Date.now()) throw eamError('the sign-in expired');
    return flow;
  }

  /** The TOTP step, through the blocker like every second factor; answers whether it passed. */
  async verify(flow: EamFlow, code: unknown, ip: string | null): Promise<boolean | 'blocked'> {
    const who = { ip, username: flow.username };
    const check = await this.blocker.check(flow.tenantId, who);
    if (check.blocked) return 'blocked';
    const value = typeof code === 'string' ? code.replace(/\s/g, '').slice(0, 16) : '';
    if (!flow.methods.includes('totp')) return false;
    const ok =
      /^\d{6}$/.test(value) && (await this.totp.verifyTotp(flow.tenantId, flow.userId, value));
    return this.settle(flow, ok, who, check, 'totp');
  }

  private async settle(
    flow: EamFlow,
    ok: boolean,
    who: { ip: string | null; username: string },
    check: Awaited<ReturnType<BlockerService['check']>>,
    method: EamMethod,
  ): Promise<boolean> {
    const event = {
      tenantId: flow.tenantId,
      actorType: 'user' as const,
      actorId: flow.userId,
      subjectId: flow.userId,
      ip: who.ip,
      method: method === 'pin_pattern' ? METHOD : method,
      details: { client_id: flow.clientId, flow: 'entra_eam' },
    };
    if (!ok) {
      await this.blocker.recordFailure(flow.tenantId, { ...who, method });
      this.audit.record({ ...event, type: 'login.failure' });
      return false;
    }
    await this.blocker.recordSuccess(flow.tenantId, who, check);
    this.audit.record({
      ...event,
      type: 'login.success',
      details: { ...event.details, acr: flow.acrs[method] },
    });
    return true;
  }

  /**
   * The ID token Entra expects back: our issuer, its app id as audience, the hint's subject, the
   * acr the method reaches and its amr (RFC 8176; Entra reads FIDO2 as `fido`, a TOTP code as
   * `otp`; a PIN/pattern as the sign-in with it reports: `pin`, `pattern`).
   */
  idToken(flow: EamFlow, method: EamMethod, amr: string[]): Promise<string> {
    const issuer = `${this.config.publicUrl.replace(/\/$/, '')}/${flow.tenantId}`;
    return this.keys.signJwt(
      flow.tenantId,
      {
        iss: issuer,
        aud: flow.clientId,
        sub: flow.hint.sub,
        ...(flow.nonce ? { nonce: flow.nonce } : {}),
        acr: flow.acrs[method],
        amr,
        ...(flow.hint.oid ? { oid: flow.hint.oid } : {}),
        ...(flow.hint.tid ? { tid: flow.hint.tid } : {}),
        auth_time: Math.floor(Date.now() / 1000),
      },
      { alg: 'RS256', expiresIn: '10m' },
    );
  }
}
