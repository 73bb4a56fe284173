import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import { ACCESS_POLICY, type AccessPolicy } from '../src/auth/auth.decorators.js';
import { ALL_SCOPES } from '../src/auth/scopes.js';
import { startTestApp, type TestApp } from './harness.js';

/**
 * Deny by default, checked: every route of every controller declares a scope or is public.
 * The list of routes is printed as a table so a reviewer sees every route's policy at a glance.
 */
describe('route access policies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  function routes() {
    const out: Array<{ route: string; policy: AccessPolicy | undefined }> = [];
    for (const module of t.app.get(ModulesContainer).values()) {
      for (const wrapper of module.controllers.values()) {
        const ctrl = wrapper.metatype as (new (...args: unknown[]) => unknown) | undefined;
        if (!ctrl) continue;
        const base = Reflect.getMetadata(PATH_METADATA, ctrl) as string;
        for (const name of Object.getOwnPropertyNames(ctrl.prototype)) {
          const handler = ctrl.prototype[name];
          if (name === 'constructor' || typeof handler !== 'function') continue;
          const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
          if (path === undefined) continue;
          const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
          const policy =
            (Reflect.getMetadata(ACCESS_POLICY, handler) as AccessPolicy | undefined) ??
            (Reflect.getMetadata(ACCESS_POLICY, ctrl) as AccessPolicy | undefined);
          out.push({
            route: `${method} /${base}/${path}`.replace(/\/+/g, '/').replace(/\/$/, ''),
            policy,
          });
        }
      }
    }
    return out;
  }

  it('finds the routes', () => {
    expect(routes().length).toBeGreaterThan(15);
  });

  it('every route declares a known scope or is public', () => {
    // Self-service routes too: a user key or token reaches only what its scopes name.
    const missing = routes().filter(
      ({ policy }) => !policy || (!policy.public && policy.scope === undefined),
    );
    expect(missing.map((r) => r.route)).toEqual([]);
    const unknown = routes().filter(
      ({ policy }) => policy?.scope && !ALL_SCOPES.includes(policy.scope),
    );
    expect(unknown.map((r) => r.route)).toEqual([]);
  });

  it('every credential change needs a recent sign-in: me:credentials routes and only those', () => {
    const credential = routes().filter(({ policy }) => policy?.scope === 'me:credentials');
    expect(credential.length).toBeGreaterThanOrEqual(8);
    expect(credential.filter(({ policy }) => !policy?.recentAuth).map((r) => r.route)).toEqual([]);
    const me = routes().filter(({ route }) => /\/me(\/|$)/.test(route));
    expect(
      me.filter(({ policy }) => !policy?.scope?.startsWith('me:')).map((r) => r.route),
    ).toEqual([]);
  });

  it('the OpenAPI document shows the same policy for every operation', async () => {
    const spec = (await t.http('GET', '/openapi.json', { key: null })).body;
    for (const [path, item] of Object.entries<Record<string, Record<string, unknown>>>(
      spec.paths,
    )) {
      for (const [method, op] of Object.entries(item)) {
        expect([`${method} ${path}`, op['x-required-scope']]).not.toEqual([
          `${method} ${path}`,
          undefined,
        ]);
      }
    }
  });

  it('a route without a policy is refused, not opened', async () => {
    // The guard itself: drop the policy of one route in memory and call it.
    const { HealthController } = await import('../src/health/health.controller.js');
    const handler = HealthController.prototype.health;
    const saved = Reflect.getMetadata(ACCESS_POLICY, handler);
    Reflect.deleteMetadata(ACCESS_POLICY, handler);
    try {
      const r = await t.http('GET', '/health', { key: null });
      expect(r.status).toBe(403);
    } finally {
      Reflect.defineMetadata(ACCESS_POLICY, saved, handler);
    }
    expect((await t.http('GET', '/health', { key: null })).status).toBe(200);
  });
});
