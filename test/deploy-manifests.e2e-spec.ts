import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  lintDeployment,
  lintDockerfile,
  readCompose,
  renderKustomization,
  ROOT,
  validateObjects,
  type Manifest,
} from '../scripts/lint-deploy.mjs';
import { loadConfig } from '../src/config/config.js';

/**
 * docker/ and k8s/ as CI sees them (no Docker daemon, no cluster; decision 0025): they lint
 * clean, render, validate against the Kubernetes schemas, and agree with the server they run:
 * health paths it serves, environment variables it reads, a grace period its drain fits in.
 * A typo in a manifest fails (shown on a copy).
 */
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Every environment variable the server's configuration reads. */
function envNamesRead(): Set<string> {
  const names = new Set<string>();
  const env: Record<string, string | undefined> = {
    DATABASE_URL: 'postgres://idp@localhost/idp',
    IDP_MASTER_KEY: '0'.repeat(64),
  };
  loadConfig(
    new Proxy(env, {
      get: (target, key: string) => {
        names.add(key);
        return target[key];
      },
    }),
  );
  return names;
}

/** GET paths the committed API document lists as public (the server's real health routes). */
const publicGets = () => {
  const doc = JSON.parse(read('openapi.json')) as {
    paths: Record<string, { get?: { security?: unknown[] } }>;
  };
  return Object.entries(doc.paths)
    .filter(([, item]) => item.get?.security?.length === 0)
    .map(([path]) => path);
};

type Container = {
  name: string;
  image: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string }>;
  command?: string[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
};
type PodSpec = { terminationGracePeriodSeconds?: number; containers: Container[] };
type Workload = Manifest & {
  spec: { template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } };
};

const pick = <T extends Manifest>(objects: Manifest[], kind: string, name?: string) => {
  const found = objects.find((o) => o.kind === kind && (!name || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind}`);
  return found as T;
};

/** Packages a source text loads at run time (type-only imports are erased). */
function runtimeImports(text: string): string[] {
  const specs = [
    ...text.matchAll(/^import (?!type )[^;]*?from '([^'.][^']*)'|import\('([^'.][^']*)'\)/gms),
  ]
    .map((m) => m[1] ?? m[2])
    .filter((spec) => !spec.startsWith('node:'));
  return specs.map((s) =>
    s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0],
  );
}

const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });

const objects = () => renderKustomization(join(ROOT, 'k8s/overlays/production'));

describe('deployment files', () => {
  it('npm run lint:deploy finds nothing: Dockerfile, compose, both kustomizations', async () => {
    expect(await lintDeployment()).toEqual([]);
  }, 120_000);

  describe('docker/', () => {
    it('the Dockerfile lint catches a typo, a root runtime and dev dependencies', () => {
      const good = read('docker/Dockerfile');
      expect(lintDockerfile(good)).toEqual([]);
      expect(lintDockerfile(good.replace('\nCOPY --from=build', '\nCOPPY --from=build'))).toEqual([
        expect.stringMatching(/Unknown instruction: COPPY/),
      ]);
      expect(lintDockerfile(good.replace('\nUSER node', '\nUSER root'))).toEqual([
        'rule: the runtime stage must end as a non-root USER',
      ]);
      expect(lintDockerfile(good.replace('npm ci --omit=dev', 'npm install')).toSorted()).toEqual([
        'rule: install from the lockfile (`npm ci`), not `npm install`',
        'rule: the runtime stage installs with `npm ci --omit=dev`',
      ]);
      expect(
        lintDockerfile(
          good.replace('ARG NODE_IMAGE=node:24.21.0-bookworm-slim', 'ARG NODE_IMAGE=node:24'),
        ),
      ).toContain('rule: base image "node:24" is not an exact version (name:X.Y.Z[@digest])');
    });

    it('production dependencies are enough: the server imports nothing from devDependencies', () => {
      const { dependencies } = JSON.parse(read('package.json')) as {
        dependencies: Record<string, string>;
      };
      const missing = ['src', 'libs', 'migrations']
        .flatMap((d) => sources(join(ROOT, d)))
        .flatMap((f) => runtimeImports(readFileSync(f, 'utf8')).map((name) => ({ f, name })))
        .filter(({ name }) => !dependencies[name])
        .map(({ f, name }) => `${f.slice(ROOT.length + 1)}: ${name}`);
      expect(missing).toEqual([]);
      expect(
        runtimeImports(
          "import type { X } from 'a';\nimport {\n  y,\n} from '@b/c/d';\nimport('e');",
        ),
      ).toEqual(['@b/c', 'e']);
    });

    it('its health check, port and variables are the server’s', () => {
      const dockerfile = read('docker/Dockerfile');
      const health = /HEALTHCHECK[^\n]*\\\n[^\n]*'(\/[\w/]+)'/.exec(dockerfile)?.[1];
      expect(publicGets()).toContain(health);
      const env = [...dockerfile.matchAll(/^(?:ENV\s+|\s+)([A-Z_]+)=\S+/gm)].map((m) => m[1]);
      expect(env.toSorted()).toEqual(['DATA_DIR', 'NODE_ENV', 'PORT', 'SHUTDOWN_DRAIN_SECONDS']);
      const known = envNamesRead();
      expect(env.filter((name) => !known.has(name))).toEqual([]);
      // the .dockerignore lets through what the build stage copies
      const ignore = read('.dockerignore');
      for (const [, path] of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm))
        expect([path, ignore.includes(`!${path.replace(/^\.\/?/, '')}`)]).toEqual([path, true]);
    });

    it('compose parses, runs the app on PostgreSQL and Redis, with variables the server reads', () => {
      const { problems, services } = readCompose(read('docker/compose.yaml'));
      expect(problems).toEqual([]);
      const app = services.app as {
        environment: Record<string, string>;
        ports: string[];
        stop_grace_period: string;
      };
      const known = envNamesRead();
      expect(Object.keys(app.environment).filter((name) => !known.has(name))).toEqual([]);
      expect(app.environment.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
      expect(app.environment.REDIS_URL).toBe('redis://redis:6379');
      expect(app.ports).toEqual(['3000:3000']);
      expect(Number.parseInt(app.stop_grace_period)).toBeGreaterThan(
        Number(app.environment.SHUTDOWN_DRAIN_SECONDS),
      );
      expect(readCompose('services: [unclosed').problems).toEqual([
        expect.stringMatching(/^compose: /),
      ]);
    });
  });

  describe('k8s/', () => {
    it('the production overlay renders every piece, patched and in its namespace', () => {
      const rendered = objects();
      expect(rendered.map((o) => o.kind).toSorted()).toEqual([
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'Job',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'Service',
        'ServiceAccount',
      ]);
      expect(new Set(rendered.map((o) => o.metadata.namespace))).toEqual(new Set(['idp']));
      const deployment = pick<Workload>(rendered, 'Deployment');
      expect(deployment.spec).toMatchObject({ replicas: 3 });
      const [server] = deployment.spec.template.spec.containers;
      expect(server.image).toBe('registry.example.org/idp:0.1.0');
      expect(server).toMatchObject({ resources: { requests: { cpu: '1' } } });
      expect(server.readinessProbe).toBeDefined(); // the patch merged, not replaced, the container
      expect(pick<Workload>(rendered, 'Job').spec.template.spec.containers[0].image).toBe(
        server.image,
      );
    });

    it('probes hit the server’s real liveness and readiness routes on its port', () => {
      const rendered = objects();
      const [server] = pick<Workload>(rendered, 'Deployment').spec.template.spec.containers;
      const gets = publicGets();
      expect(server.livenessProbe?.httpGet?.path).toBe('/health');
      expect(server.startupProbe?.httpGet?.path).toBe('/health');
      expect(server.readinessProbe?.httpGet?.path).toBe('/health/ready');
      for (const probe of [server.livenessProbe, server.startupProbe, server.readinessProbe]) {
        expect(gets).toContain(probe?.httpGet?.path);
        expect(server.ports?.find((p) => p.name === probe?.httpGet?.port)?.containerPort).toBe(
          Number(server.env?.find((e) => e.name === 'PORT')?.value),
        );
      }
    });

    it('the grace period covers preStop plus the server’s drain', () => {
      const rendered = objects();
      const pod = pick<Workload>(rendered, 'Deployment').spec.template.spec;
      const config = pick<Manifest & { data: Record<string, string> }>(rendered, 'ConfigMap');
      const drain = Number(config.data.SHUTDOWN_DRAIN_SECONDS);
      const preStop = pod.containers[0].lifecycle?.preStop?.sleep?.seconds ?? 0;
      expect(drain).toBeGreaterThan(0);
      expect(preStop).toBeGreaterThan(0);
      // a few seconds for closing pools after the drain
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + drain + 5);
    });

    it('ConfigMap and Secret template hold only variables the server reads', () => {
      const known = envNamesRead();
      const config = pick<Manifest & { data: Record<string, string> }>(objects(), 'ConfigMap');
      const secret = parse(read('k8s/base/secret.template.yaml')) as {
        stringData: Record<string, string>;
      };
      const names = [...Object.keys(config.data), ...Object.keys(secret.stringData)];
      expect(names.filter((n) => !known.has(n))).toEqual([]);
      expect(Object.keys(secret.stringData)).toEqual(
        expect.arrayContaining(['DATABASE_URL', 'IDP_MASTER_KEY']),
      );
    });

    it('selectors reach the pods; the migration Job runs the migrate entry point', () => {
      const rendered = objects();
      const labels = pick<Workload>(rendered, 'Deployment').spec.template.metadata?.labels ?? {};
      const matches = (selector: Record<string, string>) =>
        Object.entries(selector).every(([k, v]) => labels[k] === v);
      type Selected = Manifest & { spec: Record<string, unknown> };
      const service = pick<Selected>(rendered, 'Service').spec.selector as Record<string, string>;
      const pdb = pick<Selected>(rendered, 'PodDisruptionBudget').spec.selector as {
        matchLabels: Record<string, string>;
      };
      const policy = pick<Selected>(rendered, 'NetworkPolicy').spec.podSelector as {
        matchLabels: Record<string, string>;
      };
      expect([matches(service), matches(pdb.matchLabels), matches(policy.matchLabels)]).toEqual([
        true,
        true,
        true,
      ]);
      const hpa = pick<Selected>(rendered, 'HorizontalPodAutoscaler').spec.scaleTargetRef;
      expect(hpa).toMatchObject({ kind: 'Deployment', name: 'idp' });
      const [migrate] = pick<Workload>(rendered, 'Job').spec.template.spec.containers;
      expect(migrate.command).toEqual(['node', 'dist/src/migrate.js']);
      expect(existsSync(join(ROOT, 'src/migrate.ts'))).toBe(true);
    });

    it('a typo in a manifest fails the check (on a copy of k8s/)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'idp-k8s-'));
      try {
        cpSync(join(ROOT, 'k8s'), dir, { recursive: true });
        const edit = (path: string, from: string, to: string) =>
          writeFileSync(join(dir, path), readFileSync(join(dir, path), 'utf8').replace(from, to));
        edit('base/deployment.yaml', 'readinessProbe:', 'readinesProbe:');
        edit('base/migrate-job.yaml', 'backoffLimit: 2', "backoffLimit: 'two'");
        const problems = await validateObjects(
          renderKustomization(join(dir, 'overlays/production')),
        );
        expect(problems).toEqual(
          expect.arrayContaining([
            expect.stringMatching(/^Deployment\/idp: .*'"readinesProbe"' does not exist/),
            expect.stringMatching(/^Job\/idp-migrate: .*backoffLimit must be integer/),
          ]),
        );

        const kustomization = join(dir, 'overlays/production/kustomization.yaml');
        writeFileSync(kustomization, `${readFileSync(kustomization, 'utf8')}commonLabels: {}\n`);
        expect(() => renderKustomization(join(dir, 'overlays/production'))).toThrow(
          /"commonLabels" is outside the supported kustomize subset/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  });
});
