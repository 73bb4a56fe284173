#!/usr/bin/env node
/**
 * `npm run lint:deploy`: the deployment files checked without Docker or a cluster (decision 0025).
 *
 * - docker/Dockerfile: dockerfile-utils' linter (every rule an error) plus this project's rules:
 *   multi-stage, an exact base image, a non-root runtime stage that installs production
 *   dependencies only, a HEALTHCHECK on /health.
 * - docker/compose.yaml: parses, and its services are the ones the server needs.
 * - k8s/: each kustomization is rendered by the kustomize subset below (no kustomize binary is
 *   available from npm), and every object is validated against the Kubernetes OpenAPI schemas as
 *   kubernetes-models ships them: its validators check types, enums and required fields; its
 *   TypeScript interfaces, compiled with excess-property checks, refuse unknown fields (the
 *   schemas themselves allow them, so a typo such as `readinesProbe` would otherwise pass).
 *
 * The kustomize subset: `resources` (files and directories), `namespace`, `images`
 * (newName/newTag/digest), `replicas`, and `patches` by `path` (strategic merge: maps merge, lists
 * of named objects merge by name, other lists are replaced). Any other key is refused, so a
 * kustomization never means more than this renders.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate as validateDockerfile } from 'dockerfile-utils';
import ts from 'typescript';
import { parseAllDocuments, parse } from 'yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------- Dockerfile

/** Problems of a Dockerfile's text, as `line N: message`. */
export function lintDockerfile(text) {
  const problems = [];
  const all = 2; // dockerfile-utils ValidationSeverity.ERROR
  const settings = {
    deprecatedMaintainer: all,
    directiveCasing: all,
    emptyContinuationLine: all,
    instructionCasing: all,
    instructionCmdMultiple: all,
    instructionEntrypointMultiple: all,
    instructionHealthcheckMultiple: all,
    instructionJSONInSingleQuotes: all,
    instructionWorkdirRelative: all,
  };
  for (const d of validateDockerfile(text, settings)) {
    const level = d.severity === 1 ? 'error' : 'warning'; // LSP DiagnosticSeverity
    problems.push(`line ${d.range.start.line + 1}: ${level}: ${d.message}`);
  }

  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const instructions = lines
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [word, ...rest] = l.split(/\s+/);
      return { op: word.toUpperCase(), args: rest.join(' ') };
    });
  const args = Object.fromEntries(
    instructions
      .filter((i) => i.op === 'ARG' && i.args.includes('='))
      .map((i) => i.args.split('=', 2)),
  );
  const stages = [];
  for (const i of instructions) {
    if (i.op === 'FROM') stages.push({ from: i.args, body: [] });
    else stages.at(-1)?.body.push(i);
  }
  if (stages.length < 2) problems.push('rule: build in one stage, run from another (multi-stage)');
  for (const s of stages) {
    const image = s.from.split(/\s+/)[0].replace(/^\$\{(\w+)\}$/, (_, n) => args[n] ?? '');
    if (!/^[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$/.test(image))
      problems.push(`rule: base image "${image}" is not an exact version (name:X.Y.Z[@digest])`);
  }
  const runtime = stages.at(-1)?.body ?? [];
  const user = runtime.filter((i) => i.op === 'USER').at(-1);
  if (!user || /^(root|0)(:|$)/.test(user.args))
    problems.push('rule: the runtime stage must end as a non-root USER');
  const installs = runtime.filter((i) => i.op === 'RUN' && /\bnpm (ci|install)\b/.test(i.args));
  if (!installs.length || installs.some((i) => !/--omit=dev\b/.test(i.args)))
    problems.push('rule: the runtime stage installs with `npm ci --omit=dev`');
  if (installs.some((i) => !/\bnpm ci\b/.test(i.args)))
    problems.push('rule: install from the lockfile (`npm ci`), not `npm install`');
  const health = runtime.find((i) => i.op === 'HEALTHCHECK');
  if (!health || !/\/health\b/.test(health.args))
    problems.push('rule: the runtime stage has a HEALTHCHECK on /health');
  return problems;
}

// ---------------------------------------------------------------- compose

/** The compose file's services, or problems when it does not parse or lacks one. */
export function readCompose(text) {
  let doc;
  try {
    doc = parse(text);
  } catch (err) {
    return { problems: [`compose: ${err.message}`], services: {} };
  }
  const services = doc?.services ?? {};
  const problems = [];
  for (const need of ['app', 'postgres', 'redis'])
    if (!services[need]) problems.push(`compose: no "${need}" service`);
  for (const [name, s] of Object.entries(services)) {
    if (!s.image && !s.build) problems.push(`compose: service ${name} has neither image nor build`);
    for (const dep of Object.keys(s.depends_on ?? {}))
      if (!services[dep]) problems.push(`compose: ${name} depends on unknown service ${dep}`);
  }
  return { problems, services };
}

// ---------------------------------------------------------------- kustomize subset

const KNOWN_KEYS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'images',
  'replicas',
  'patches',
]);
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

function readYamlDocs(file) {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${relative(ROOT, file)}: ${d.errors[0].message}`);
    return d.toJS();
  });
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Strategic merge, the subset: maps merge, lists of named objects merge by name. */
export function strategicMerge(base, patch) {
  if (isObject(base) && isObject(patch)) {
    const out = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      if (k.startsWith('$patch')) throw new Error(`patch directive ${k} is not supported`);
      out[k] = k in base ? strategicMerge(base[k], v) : v;
    }
    return out;
  }
  const named = (list) => Array.isArray(list) && list.every((x) => isObject(x) && 'name' in x);
  if (named(base) && named(patch)) {
    const out = base.map((x) => {
      const p = patch.find((y) => y.name === x.name);
      return p ? strategicMerge(x, p) : x;
    });
    for (const p of patch) if (!base.some((x) => x.name === p.name)) out.push(p);
    return out;
  }
  return patch;
}

const idOf = (o) => `${o.kind}/${o.metadata?.name}`;

/** The objects `kubectl apply -k dir` would send, within the subset above. */
export function renderKustomization(dir) {
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new Error(`${relative(ROOT, dir)}: no kustomization.yaml`);
  const k = parse(readFileSync(file, 'utf8'));
  for (const key of Object.keys(k))
    if (!KNOWN_KEYS.has(key))
      throw new Error(
        `${relative(ROOT, file)}: "${key}" is outside the supported kustomize subset`,
      );
  if (k.kind !== 'Kustomization')
    throw new Error(`${relative(ROOT, file)}: kind is not Kustomization`);

  let objects = [];
  for (const res of k.resources ?? []) {
    const path = resolve(dir, res);
    if (!existsSync(path))
      throw new Error(`${relative(ROOT, file)}: resource ${res} does not exist`);
    objects.push(
      ...(statSync(path).isDirectory() ? renderKustomization(path) : readYamlDocs(path)),
    );
  }
  const ids = objects.map(idOf);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new Error(`${relative(ROOT, file)}: ${dup} is defined twice`);

  for (const p of k.patches ?? []) {
    if (!p.path || Object.keys(p).some((key) => key !== 'path'))
      throw new Error(`${relative(ROOT, file)}: only patches by path are supported`);
    for (const patch of readYamlDocs(resolve(dir, p.path))) {
      const at = objects.findIndex((o) => idOf(o) === idOf(patch));
      if (at < 0)
        throw new Error(`${relative(ROOT, file)}: patch ${p.path} targets no ${idOf(patch)}`);
      objects[at] = strategicMerge(objects[at], patch);
    }
  }
  for (const r of k.replicas ?? []) {
    const target = objects.find(
      (o) =>
        ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(o.kind) && o.metadata.name === r.name,
    );
    if (!target) throw new Error(`${relative(ROOT, file)}: replicas for unknown ${r.name}`);
    target.spec.replicas = r.count;
  }
  for (const img of k.images ?? []) {
    let used = false;
    for (const o of objects) {
      const pod = o.kind === 'Deployment' || o.kind === 'Job' ? o.spec?.template?.spec : undefined;
      for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
        const name = c.image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
        if (name !== img.name) continue;
        used = true;
        const tag = img.digest ? `@${img.digest}` : `:${img.newTag ?? c.image.split(':').at(-1)}`;
        c.image = `${img.newName ?? name}${tag}`;
      }
    }
    if (!used)
      throw new Error(`${relative(ROOT, file)}: image ${img.name} is used by no container`);
  }
  if (k.namespace) {
    objects = objects.map((o) =>
      CLUSTER_SCOPED.has(o.kind)
        ? o
        : { ...o, metadata: { ...o.metadata, namespace: k.namespace } },
    );
  }
  return objects;
}

// ---------------------------------------------------------------- Kubernetes schemas

/** apiVersion/kind → the kubernetes-models module and interface that describe it. */
const MODELS = {
  'v1/ConfigMap': ['v1/ConfigMap', 'IConfigMap'],
  'v1/Secret': ['v1/Secret', 'ISecret'],
  'v1/Service': ['v1/Service', 'IService'],
  'v1/ServiceAccount': ['v1/ServiceAccount', 'IServiceAccount'],
  'apps/v1/Deployment': ['apps/v1/Deployment', 'IDeployment'],
  'batch/v1/Job': ['batch/v1/Job', 'IJob'],
  'policy/v1/PodDisruptionBudget': ['policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'],
  'autoscaling/v2/HorizontalPodAutoscaler': [
    'autoscaling/v2/HorizontalPodAutoscaler',
    'IHorizontalPodAutoscaler',
  ],
  'networking.k8s.io/v1/NetworkPolicy': ['networking.k8s.io/v1/NetworkPolicy', 'INetworkPolicy'],
};

/** Problems of rendered objects against the Kubernetes schemas, as `Kind/name: message`. */
export async function validateObjects(objects) {
  const problems = [];
  const typed = [];
  for (const o of objects) {
    const model = MODELS[`${o.apiVersion}/${o.kind}`];
    if (!model) {
      problems.push(`${idOf(o)}: unknown apiVersion/kind ${o.apiVersion} ${o.kind}`);
      continue;
    }
    const mod = await import(`kubernetes-models/${model[0]}`);
    const Model = mod[model[1].slice(1)];
    try {
      new Model(o).validate();
    } catch (err) {
      problems.push(`${idOf(o)}: ${err.message}`);
    }
    typed.push({ o, model });
  }
  problems.push(...unknownFields(typed));
  return problems;
}

/** TypeScript's excess-property check against kubernetes-models' interfaces: unknown fields. */
function unknownFields(typed) {
  const file = join(ROOT, 'k8s', '__manifests__.ts');
  const lines = [];
  const owner = [];
  typed.forEach(({ model }, i) => {
    lines.push(`import type { ${model[1]} as T${i} } from 'kubernetes-models/${model[0]}';`);
    owner.push(undefined);
  });
  typed.forEach(({ o }, i) => {
    for (const l of `export const o${i}: T${i} = ${JSON.stringify(o, null, 1)};`.split('\n')) {
      lines.push(l);
      owner.push(idOf(o));
    }
  });
  const text = lines.join('\n');
  const options = {
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => f === file || fileExists(f);
  host.readFile = (f) => (f === file ? text : readFile(f));
  host.getSourceFile = (f, lang, ...rest) =>
    f === file ? ts.createSourceFile(f, text, lang) : getSourceFile(f, lang, ...rest);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => {
    const line = d.file ? d.file.getLineAndCharacterOfPosition(d.start ?? 0).line : 0;
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    return `${owner[line] ?? 'manifests'}: ${message.replace(/'\{[^']{80,}\}'/g, 'its type')}`;
  });
}

// ---------------------------------------------------------------- everything

export const KUSTOMIZATIONS = ['k8s/base', 'k8s/overlays/production'];
export const LOOSE_MANIFESTS = ['k8s/base/secret.template.yaml'];

/** Every problem of the repository's deployment files (empty: all good). */
export async function lintDeployment(root = ROOT) {
  const problems = [];
  const dockerfile = join(root, 'docker/Dockerfile');
  problems.push(
    ...lintDockerfile(readFileSync(dockerfile, 'utf8')).map((p) => `docker/Dockerfile ${p}`),
  );
  problems.push(...readCompose(readFileSync(join(root, 'docker/compose.yaml'), 'utf8')).problems);
  for (const k of KUSTOMIZATIONS) {
    try {
      const objects = renderKustomization(join(root, k));
      problems.push(...(await validateObjects(objects)).map((p) => `${k}: ${p}`));
    } catch (err) {
      problems.push(`${k}: ${err.message}`);
    }
  }
  for (const m of LOOSE_MANIFESTS) {
    try {
      problems.push(
        ...(await validateObjects(readYamlDocs(join(root, m)))).map((p) => `${m}: ${p}`),
      );
    } catch (err) {
      problems.push(`${m}: ${err.message}`);
    }
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problems = await lintDeployment();
  for (const p of problems) console.error(p);
  console.log(
    problems.length
      ? `lint:deploy: ${problems.length} problem(s)`
      : `lint:deploy: docker/ and ${KUSTOMIZATIONS.join(', ')} are clean`,
  );
  process.exit(problems.length ? 1 : 0);
}
