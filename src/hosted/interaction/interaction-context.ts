import { Inject, Injectable, Logger } from '@nestjs/common';
import type { InteractionResults } from 'oidc-provider';
import { isValidTenantId } from '../../../libs/tenancy/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/config.js';
import { OidcProviders, type TenantProvider } from '../../oidc/oidc-providers.service.js';
import { clientDisplay, type PolicyClient } from '../../oidc/provider-config.js';
import { TenantsService } from '../../tenants/tenants.service.js';
import { InteractionCsrf } from '../kit/csrf.js';
import { errorPage, type Branding, type ClientDisplay } from '../kit/layout.js';
import type { PageRequest, PageResult } from '../kit/page-reply.js';
import type { Settings } from './login-methods.js';
import { PendingLogins, type PendingLogin, type PendingStage } from './pending.js';
import { notFoundPage } from '../kit/page-errors.js';

type Interaction = Awaited<ReturnType<TenantProvider['provider']['interactionDetails']>>;

/** Where a sign-in stands between two steps, as a step hands it on (sealed into the page). */
export type StepState = Omit<PendingLogin, 'expires'>;

/** A first factor (or more) passed: who, how, and the method to credit. */
export interface SignedIn {
  accountId: string;
  amr: string[];
  method: string;
}

/** Routes of one interaction, as the pages link and post to them. */
export function interactionActions(basePath: string, uid: string) {
  const base = `${basePath}/interaction/${uid}`;
  return {
    base,
    login: `${base}/login`,
    consent: `${base}/consent`,
    abort: `${base}/abort`,
    secondFactor: `${base}/second-factor`,
    enrol: `${base}/enrol`,
    continue: `${base}/continue`,
    signup: `${base}/signup`,
    signupPasskeyOptions: `${base}/signup/passkey-options`,
    signupPasskey: `${base}/signup/passkey`,
    emailCode: `${base}/login/email-code`,
    emailCodeVerify: `${base}/login/email-code/verify`,
    forgot: `${basePath}/login/forgot`,
  };
}

/** One interaction as every step sees it: tenant, settings, branding, client, routes, CSRF token. */
export interface Loaded {
  tenantId: string;
  uid: string;
  tenant: TenantProvider;
  settings: Settings;
  branding: Branding;
  interaction: Interaction;
  client?: PolicyClient;
  clientDisplay?: ClientDisplay;
  actions: ReturnType<typeof interactionActions>;
  /** This interaction's CSRF token, for the forms of the page being drawn. */
  csrf: string;
  /** Sections other modules add under the login page's methods (upstream providers' buttons). */
  loginSections: string[];
}

/** A section under the login page's methods, drawn when the interaction is at the login prompt. */
export type LoginSection = (l: Loaded) => Promise<string>;

/** Sends a typed login somewhere else before any method checks it (an email domain's upstream). */
export type LoginRoute = (l: Loaded, login: string | undefined) => Promise<PageResult | undefined>;

/** The page a prompt (login, consent) shows when the browser lands on the interaction. */
export type PromptPage = (l: Loaded, http: PageRequest) => Promise<PageResult> | PageResult;

export type PromptHook = (l: Loaded, http: PageRequest) => Promise<PageResult | undefined>;

const UID = /^[A-Za-z0-9_-]{1,64}$/;
const EXPIRED =
  'This sign-in request has expired or was started in another browser. Go back to the application and sign in again.';
const STEP_EXPIRED = 'This step has expired. Go back to the application and sign in again.';

export const isPage = (v: object): v is PageResult => 'status' in v;

/** The identifier the client suggested: `login_hint`, or the seed's `email_hint`. */
export function loginHintOf(l: Loaded): string | undefined {
  const hint = l.interaction.params.login_hint ?? l.interaction.params.email_hint;
  return typeof hint === 'string' ? hint : undefined;
}

/** An address the email sign-in methods accept (one `@`, no spaces, at most 254 characters). */
export function isEmailAddress(email: string): boolean {
  return email.length > 0 && email.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(email);
}

/**
 * What every step of the hosted sign-in starts with: the interaction loaded from the provider
 * (bound to this browser by its signed cookie), the tenant's settings and branding, the client
 * as the pages show it, and the form's CSRF token checked against the interaction uid. A step
 * that cannot go on gets the page to answer instead. Prompts register the page they land on
 * (`onPrompt`), so a post that arrives at the wrong prompt shows the current one.
 */
@Injectable()
export class InteractionContext {
  private readonly logger = new Logger('InteractionPages');
  private readonly csrf: InteractionCsrf;
  private readonly pending: PendingLogins;
  private readonly prompts = new Map<string, PromptPage>();
  private readonly promptHooks: Array<{ name: string; hook: PromptHook }> = [];
  private readonly sections: LoginSection[] = [];
  private readonly routes: LoginRoute[] = [];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly providers: OidcProviders,
    private readonly tenants: TenantsService,
  ) {
    this.csrf = new InteractionCsrf(config.masterKey);
    this.pending = new PendingLogins(config.masterKey);
  }

  /** A step registers the page of its prompt (login, consent). */
  onPrompt(name: string, page: PromptPage) {
    this.prompts.set(name, page);
  }

  /**
   * A step that may answer first when the browser lands on a prompt (a support sign-in token
   * the browser carries: SignInTokenStep); undefined lets the prompt's page answer.
   */
  beforePrompt(name: string, hook: PromptHook) {
    this.promptHooks.push({ name, hook });
  }

  /** Another module adds a section under the login page's methods (UpstreamPagesModule). */
  addLoginSection(section: LoginSection) {
    this.sections.push(section);
  }

  /** Another module may send a typed login elsewhere before any method checks it. */
  addLoginRoute(route: LoginRoute) {
    this.routes.push(route);
  }

  /** Where a typed login goes instead of the method, if anywhere. */
  async routeLogin(l: Loaded, login: string | undefined): Promise<PageResult | undefined> {
    for (const route of this.routes) {
      const page = await route(l, login);
      if (page) return page;
    }
    return undefined;
  }

  error(b: Branding, status: number, error: string, description: string): PageResult {
    return { status, html: errorPage(b, error, description) };
  }

  /** Loads the tenant and this browser's interaction; a page to show instead when it cannot. */
  async load(tenantId: string, uid: string, http: PageRequest): Promise<Loaded | PageResult> {
    if (!isValidTenantId(tenantId) || !UID.test(uid)) return notFoundPage('Sign in');
    const tenant = await this.providers.get(tenantId);
    if (!tenant) return notFoundPage('Sign in');
    const settings = await this.tenants.settings(tenantId);
    const branding = tenant.branding;
    let interaction: Interaction;
    try {
      interaction = await tenant.provider.interactionDetails(http.req, http.res);
    } catch {
      return this.error(branding, 400, 'invalid_request', EXPIRED);
    }
    if (interaction.uid !== uid) return this.error(branding, 400, 'invalid_request', EXPIRED);
    return this.assemble(tenantId, uid, tenant, settings, interaction);
  }

  /**
   * Loads a pending interaction by its id alone, for the headless API, where no interaction
   * cookie comes along: the provider's resume endpoint still checks the browser's resume
   * cookie when the sign-in finishes. Unknown, expired, other tenants' and already answered
   * interactions are none.
   */
  async loadById(tenantId: string, uid: string): Promise<Loaded | undefined> {
    if (!isValidTenantId(tenantId) || !UID.test(uid)) return undefined;
    const tenant = await this.providers.get(tenantId);
    if (!tenant) return undefined;
    const interaction = (await tenant.provider.Interaction.find(uid)) as Interaction | undefined;
    if (!interaction || interaction.uid !== uid || interaction.result) return undefined;
    if (typeof interaction.exp === 'number' && interaction.exp * 1000 <= Date.now())
      return undefined;
    const settings = await this.tenants.settings(tenantId);
    return this.assemble(tenantId, uid, tenant, settings, interaction);
  }

  /** Ends an interaction loaded by id (loadById): the URL that resumes the authorisation. */
  async finishById(l: Loaded, result: InteractionResults): Promise<string> {
    const { interaction } = l;
    interaction.result = result;
    await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
    return interaction.returnTo;
  }

  private async assemble(
    tenantId: string,
    uid: string,
    tenant: TenantProvider,
    settings: Settings,
    interaction: Interaction,
  ): Promise<Loaded> {
    const clientId = interaction.params.client_id;
    const client =
      typeof clientId === 'string'
        ? ((await tenant.provider.Client.find(clientId)) as unknown as PolicyClient | undefined)
        : undefined;
    const basePath = new URL(this.providers.issuerOf(tenantId)).pathname;
    const l: Loaded = {
      tenantId,
      uid,
      tenant,
      settings,
      branding: tenant.branding,
      interaction,
      client,
      clientDisplay: clientDisplay(client),
      actions: interactionActions(basePath, uid),
      csrf: this.csrf.token(tenantId, uid),
      loginSections: [],
    };
    if (interaction.prompt.name === 'login' && this.sections.length) {
      l.loginSections = (await Promise.all(this.sections.map((s) => s(l)))).filter(Boolean);
    }
    return l;
  }

  /**
   * Loads the interaction for a step of `prompt`: with a form, its CSRF token must match; at
   * another prompt, the page of that prompt answers.
   */
  async loadAt(
    prompt: string,
    tenantId: string,
    uid: string,
    http: PageRequest,
    form?: Record<string, string>,
  ): Promise<Loaded | PageResult> {
    const l = await this.load(tenantId, uid, http);
    if (isPage(l)) return l;
    if (form && !this.csrf.verify(tenantId, uid, form.csrf)) return this.badCsrf(l);
    if (l.interaction.prompt.name !== prompt) return this.landing(l, http);
    return l;
  }

  /** A form posted with this interaction's CSRF token, whatever the prompt. */
  async loadForm(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<Loaded | PageResult> {
    const l = await this.load(tenantId, uid, http);
    if (isPage(l)) return l;
    if (!this.csrf.verify(tenantId, uid, form.csrf)) return this.badCsrf(l);
    return l;
  }

  csrfValid(l: Loaded, presented: unknown): boolean {
    return this.csrf.verify(l.tenantId, l.uid, presented);
  }

  /** Loads a step after the login form: its sealed state must be at one of `stages`. */
  async loadStep(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
    stages: PendingStage[],
  ): Promise<{ l: Loaded; state: PendingLogin } | PageResult> {
    const l = await this.loadAt('login', tenantId, uid, http, form);
    if (isPage(l)) return l;
    const state = this.pending.open(tenantId, uid, form.pending, stages);
    if (!state) return this.stepExpired(l);
    return { l, state };
  }

  /** The sealed state of a step, opened without the rest of loadStep (see EmailCodeStep). */
  openState(l: Loaded, value: unknown, stages: PendingStage[]): PendingLogin | undefined {
    return this.pending.open(l.tenantId, l.uid, value, stages);
  }

  stepExpired(l: Loaded): PageResult {
    return this.error(l.branding, 400, 'invalid_request', STEP_EXPIRED);
  }

  /** The hidden fields of a step's form: the CSRF token and the sealed state. */
  stepFields(l: Loaded, state: StepState) {
    return { csrf: l.csrf, pending: this.pending.seal(l.tenantId, l.uid, state) };
  }

  /** GET: the page of the prompt the provider sent the browser to. */
  async show(tenantId: string, uid: string, http: PageRequest): Promise<PageResult> {
    const l = await this.load(tenantId, uid, http);
    return isPage(l) ? l : this.landing(l, http);
  }

  private async landing(l: Loaded, http: PageRequest): Promise<PageResult> {
    for (const { name, hook } of this.promptHooks) {
      if (name !== l.interaction.prompt.name) continue;
      const first = await hook(l, http);
      if (first) return first;
    }
    const page = this.prompts.get(l.interaction.prompt.name);
    if (page) return page(l, http);
    return this.error(l.branding, 400, 'invalid_request', 'This sign-in step is not supported.');
  }

  /** Ends the interaction: the browser goes back to the provider's resume endpoint. */
  async finish(
    l: Loaded,
    http: PageRequest,
    result: InteractionResults,
    merge = true,
  ): Promise<PageResult> {
    const location = await l.tenant.provider.interactionResult(http.req, http.res, result, {
      mergeWithLastSubmission: merge,
    });
    return { status: 303, location };
  }

  /** POST abort: the user cancelled; the client hears access_denied. */
  async abort(
    tenantId: string,
    uid: string,
    form: Record<string, string>,
    http: PageRequest,
  ): Promise<PageResult> {
    const l = await this.loadForm(tenantId, uid, form, http);
    if (isPage(l)) return l;
    return this.finish(
      l,
      http,
      { error: 'access_denied', error_description: 'The user cancelled the sign-in.' },
      false,
    );
  }

  /** Whether this interaction may create an account (the tenant's or the client's setting). */
  signupOpen(l: Loaded): boolean {
    return (
      l.settings.register_enable ||
      Boolean((l.client as { register_enable?: boolean } | undefined)?.register_enable)
    );
  }

  /** The common fields of a sign-in audit event of this interaction. */
  auditEvent(l: Loaded, http: PageRequest, method: string) {
    return {
      tenantId: l.tenantId,
      method,
      ip: http.ip,
      userAgent: http.userAgent,
      subjectType: 'user',
      details: { client_id: l.interaction.params.client_id },
    };
  }

  /** How the factor services audit a change the signing-in user makes. */
  actor(http: PageRequest, state: { accountId: string }) {
    return {
      ip: http.ip,
      userAgent: http.userAgent,
      actorType: 'user' as const,
      actorId: state.accountId,
    };
  }

  private badCsrf(l: Loaded): PageResult {
    return this.error(
      l.branding,
      403,
      'invalid_request',
      'The form has expired. Go back to the application and try again.',
    );
  }
}
