// The deployment artefacts: every manifest in k8s/ against the Kubernetes JSON schemas (kubernetes-models),
// the invariants that keep rollouts and shutdowns safe, the Dockerfile's shape, and the compiled server
// started the way the image starts it (its CMD, ENV and runtime files, assembled from the Dockerfile).
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { loadConfig } from '../src/config.js';

type Obj = Record<string, any>;

const root = fileURLToPath(new URL('..', import.meta.url));
const k8sDir = path.join(root, 'k8s');
const APP = 'user-api-gateway';

/**
 * What the server test uses for each variable the pods take from a Secret: DATABASE_URL gives way to the
 * in-memory embedded database; anything else needs a stand-in here (the test fails on an unknown one).
 */
const SECRET_STAND_INS: Record<string, string | null> = {
  DATABASE_URL: null,
  JWT_SECRET: randomBytes(32).toString('hex'),
  // Optional Secrets the test runs without (no Redis, no broker).
  REDIS_URL: null,
  AMQP_URL: null,
};

// ---------------------------------------------------------------------------------------------
// Schema validation
// ---------------------------------------------------------------------------------------------

/** The schema for each apiVersion/kind the base may contain; anything else is an error. */
const models: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

interface SchemaError {
  instancePath: string;
  message?: string;
}

/** The JSON-schema errors of one manifest ([] when valid). */
function schemaErrors(doc: Obj): SchemaError[] {
  const Model = models[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) return [{ instancePath: '', message: `no schema for ${doc.apiVersion} ${doc.kind}` }];
  try {
    new Model(doc).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: SchemaError[] }).errors;
    if (!errors) throw error;
    return errors;
  }
}

const pointer = (keys: string[]) => keys.map((k) => '/' + k.replace(/~/g, '~0').replace(/\//g, '~1')).join('');

/**
 * Fields the schema does not declare, as JSON pointers: what `kubectl apply --validate=strict` rejects
 * and the OpenAPI schemas alone accept (a misspelt `readinesProbe` would otherwise pass silently).
 * Each field is swapped for a value of the wrong type: a declared field then fails validation at its
 * own path, an undeclared one does not. Map entries (labels, ConfigMap data) count as declared.
 */
function undeclaredFields(doc: Obj): string[] {
  const found: string[] = [];
  const visit = (value: unknown, keys: string[]) => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, [...keys, String(i)]));
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      // The model class sets these itself; the registry lookup has already checked them.
      if (keys.length === 0 && (key === 'apiVersion' || key === 'kind')) continue;
      const at = [...keys, key];
      const probe = structuredClone(doc);
      const parent = keys.reduce<any>((o, k) => o[k], probe);
      parent[key] = typeof child === 'object' && child !== null ? 12345 : { wrongType: true };
      const p = pointer(at);
      const declared = schemaErrors(probe).some((e) => e.instancePath === p || e.instancePath.startsWith(p + '/'));
      if (declared) visit(child, at);
      else found.push(p);
    }
  };
  visit(doc, []);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Reading k8s/
// ---------------------------------------------------------------------------------------------

interface Manifest {
  file: string;
  doc: Obj;
}

function readYamlDocs(file: string, text: string): Obj[] {
  return parseAllDocuments(text).map((d, i) => {
    if (d.errors.length) throw new Error(`${file} document ${i}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Obj;
  });
}

function readKustomization(dir = k8sDir): Obj {
  return readYamlDocs('kustomization.yaml', readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'))[0]!;
}

function readManifests(dir = k8sDir): Manifest[] {
  const kustomization = readKustomization(dir);
  return (kustomization.resources as string[]).flatMap((file) =>
    readYamlDocs(file, readFileSync(path.join(dir, file), 'utf8'))
      .filter((doc) => doc !== null)
      .map((doc) => ({ file, doc })),
  );
}

function only(manifests: Manifest[], kind: string): Obj {
  const found = manifests.filter((m) => m.doc.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0]!.doc;
}

/** True when every matchLabels entry is among the labels (the selector selects them). */
function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Every string anywhere in a document, with its path. */
function strings(value: unknown, at = ''): [string, string][] {
  if (typeof value === 'string') return [[at, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${at}/${i}`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => strings(v, `${at}/${k}`));
  return [];
}

/** Kubernetes quantities, enough for CPU and memory: 250m, 1, 1.5, 256Mi, 1Gi, 500M. */
function quantity(q: string | number): number {
  const m = /^([0-9.]+)(m|k|M|G|Ki|Mi|Gi)?$/.exec(String(q));
  if (!m) throw new Error(`unparsed quantity ${q}`);
  const factor = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * factor;
}

/** The preStop pause in ms: the built-in sleep action or an exec of `sleep N`. */
function preStopPauseMs(container: Obj): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return preStop.sleep.seconds * 1000;
  const command: string[] | undefined = preStop?.exec?.command;
  if (command && /(^|\/)sleep$/.test(command[0] ?? '') && command.length === 2) return Number(command[1]) * 1000;
  return 0;
}

/** The container port a probe's `port` (name or number) refers to. */
function probePort(container: Obj, port: string | number): number | undefined {
  if (typeof port === 'number') return port;
  return (container.ports as Obj[] | undefined)?.find((p) => p.name === port)?.containerPort;
}

/** Pod-level security settings with the container's overriding them, as the kubelet applies them. */
function effectiveSecurity(pod: Obj, container: Obj): Obj {
  return { ...(pod.securityContext ?? {}), ...(container.securityContext ?? {}) };
}

/** Names of the variables src/config.ts declares (the keys of its envSchema). */
function declaredEnvNames(): Set<string> {
  const source = readFileSync(path.join(root, 'src/config.ts'), 'utf8');
  const block = /const envSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(source);
  if (!block) throw new Error('envSchema not found in src/config.ts');
  return new Set([...block[1]!.matchAll(/^\s{2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!));
}

// ---------------------------------------------------------------------------------------------
// Reading the Dockerfile
// ---------------------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions with line continuations joined and comments dropped, grouped by FROM. */
function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let buffer = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    if (/^\s*#/.test(raw) || (!buffer && raw.trim() === '')) return;
    if (!buffer) start = i + 1;
    if (/\\\s*$/.test(raw)) {
      buffer += raw.replace(/\\\s*$/, ' ');
      return;
    }
    const full = buffer + raw;
    buffer = '';
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(full);
    if (!m) throw new Error(`Dockerfile line ${start}: cannot parse ${full}`);
    instructions.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
  });
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ image: words[0]!, name: as >= 0 ? words[as + 1] : undefined, instructions: [] });
    } else {
      if (!stages.length) {
        if (instruction.keyword === 'ARG') continue;
        throw new Error(`Dockerfile line ${instruction.line}: ${instruction.keyword} before FROM`);
      }
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

/** Leading `--flag=value` options and the rest (JSON exec form or words). */
function splitFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (let m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest); m; m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest)) {
    flags[m[1]!] = m[2] ?? '';
    rest = rest.slice(m[0].length);
  }
  return { flags, rest: rest.trim() };
}

/** The argv of an exec-form instruction (CMD, ENTRYPOINT, HEALTHCHECK CMD); undefined for shell form. */
function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const argv = JSON.parse(args) as unknown;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw new Error(`not an exec form: ${args}`);
  return argv;
}

function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      env[m[1]!] = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
    }
  }
  return env;
}

function stageWorkdir(stage: Stage): string {
  return stage.instructions.filter((i) => i.keyword === 'WORKDIR').reduce((dir, i) => path.posix.resolve(dir, i.args), '/');
}

interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}

function stageCopies(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')
    .map((i) => {
      const { flags, rest } = splitFlags(i.args);
      const words = execForm(rest) ?? rest.split(/\s+/);
      return { from: flags.from, sources: words.slice(0, -1), dest: words.at(-1)! };
    });
}

/** A .dockerignore matcher: Go filepath.Match-style patterns, `**`, `!` exceptions, last match wins. */
function dockerignore(text: string): (file: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = path.posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, ''));
      const body = pattern
        .split('/')
        .map((part) =>
          part === '**' ? '.*' : part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\.\*\//g, '(?:.*/)?');
      return { negate, re: new RegExp(`^${body}(?:/.*)?$`) };
    });
  return (file) => rules.reduce((excluded, r) => (r.re.test(file) ? !r.negate : excluded), false);
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('k8s/ manifests', () => {
  const manifests = readManifests();
  const kustomization = readKustomization();

  it('lists every manifest file in kustomization.yaml, and only existing ones', () => {
    const onDisk = readdirSync(k8sDir)
      .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
      .sort();
    expect([...(kustomization.resources as string[])].sort()).toEqual(onDisk);
    expect(kustomization).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
  });

  it('has the expected resources, one of each', () => {
    expect(manifests.map((m) => `${m.doc.apiVersion} ${m.doc.kind}`).sort()).toEqual(
      [
        'apps/v1 Deployment',
        'autoscaling/v2 HorizontalPodAutoscaler',
        'batch/v1 Job',
        'monitoring.coreos.com/v1 ServiceMonitor',
        'policy/v1 PodDisruptionBudget',
        'v1 ConfigMap',
        'v1 Service',
      ].sort(),
    );
  });

  it.each(manifests.map((m) => [`${m.file} (${m.doc.kind})`, m.doc] as const))('%s validates against its schema', (_name, doc) => {
    expect(schemaErrors(doc)).toEqual([]);
  });

  it.each(manifests.map((m) => [`${m.file} (${m.doc.kind})`, m.doc] as const))('%s has no undeclared fields', (_name, doc) => {
    expect(undeclaredFields(doc)).toEqual([]);
  });

  it('catches broken manifests (the checks above can fail)', () => {
    const deployment = structuredClone(only(manifests, 'Deployment'));
    deployment.spec.strategy.rollingUpdate.maxUnavailable = { zero: 0 };
    delete deployment.spec.selector;
    const paths = schemaErrors(deployment).map((e) => e.instancePath);
    expect(paths).toContain('/spec');
    expect(paths.some((p) => p.startsWith('/spec/strategy/rollingUpdate/maxUnavailable'))).toBe(true);

    const typo = structuredClone(only(manifests, 'Deployment'));
    const container = typo.spec.template.spec.containers[0];
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    expect(schemaErrors(typo)).toEqual([]); // the schema alone accepts it...
    expect(undeclaredFields(typo)).toContain('/spec/template/spec/containers/0/readinesProbe'); // ...this does not

    expect(schemaErrors({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } })[0]?.message).toMatch(/no schema/);
  });

  it('labels everything app.kubernetes.io/name=user-api-gateway', () => {
    for (const { file, doc } of manifests) expect(doc.metadata?.labels?.['app.kubernetes.io/name'], file).toBe(APP);
  });

  it('selectors agree: Deployment ↔ pods ↔ Service, PDB, ServiceMonitor, HPA; the migration Job is selected by none', () => {
    const deployment = only(manifests, 'Deployment');
    const service = only(manifests, 'Service');
    const pdb = only(manifests, 'PodDisruptionBudget');
    const hpa = only(manifests, 'HorizontalPodAutoscaler');
    const monitor = only(manifests, 'ServiceMonitor');
    const job = only(manifests, 'Job');
    const podLabels = deployment.spec.template.metadata.labels;

    expect(deployment.spec.selector.matchExpressions).toBeUndefined();
    expect(selects(deployment.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(selects(service.spec.selector, podLabels)).toBe(true);
    expect(selects(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(selects(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);

    const jobLabels = job.spec.template.metadata.labels;
    expect(jobLabels['app.kubernetes.io/name']).toBe(APP);
    for (const selector of [deployment.spec.selector.matchLabels, service.spec.selector, pdb.spec.selector.matchLabels]) {
      expect(selects(selector, jobLabels)).toBe(false);
    }
    for (const spread of deployment.spec.template.spec.topologySpreadConstraints ?? []) {
      expect(selects(spread.labelSelector.matchLabels, podLabels)).toBe(true);
    }
  });

  it('Service: ClusterIP, port 80 named http → the container port; ServiceMonitor scrapes /metrics there', () => {
    const deployment = only(manifests, 'Deployment');
    const service = only(manifests, 'Service');
    const monitor = only(manifests, 'ServiceMonitor');
    const container = deployment.spec.template.spec.containers[0];
    expect(service.spec.type ?? 'ClusterIP').toBe('ClusterIP');
    const http = (service.spec.ports as Obj[]).find((p) => p.name === 'http');
    expect(http).toMatchObject({ port: 80 });
    expect(probePort(container, http!.targetPort)).toBe(4000);
    for (const endpoint of monitor.spec.endpoints as Obj[]) {
      expect((service.spec.ports as Obj[]).map((p) => p.name)).toContain(endpoint.port);
      expect(endpoint.path).toBe('/metrics');
    }
  });

  it('Deployment: 3 replicas, the HPA never below them, zero-downtime rolling update, probes on the container port', () => {
    const deployment = only(manifests, 'Deployment');
    const hpa = only(manifests, 'HorizontalPodAutoscaler');
    const config = only(manifests, 'ConfigMap').data;
    // Three replicas from the start, and the HPA never goes below them.
    expect(deployment.spec.replicas).toBe(3);
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 10 });
    expect(deployment.spec.replicas).toBe(hpa.spec.minReplicas);
    expect(hpa.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
    ]);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });

    const pod = deployment.spec.template.spec;
    expect(pod.containers).toHaveLength(1);
    const container = pod.containers[0];
    expect(container.command, 'the image CMD runs the server').toBeUndefined();
    expect(container.args).toBeUndefined();
    const port = probePort(container, 'http');
    expect(port).toBe(Number(config.PORT));
    expect(container.livenessProbe.httpGet).toMatchObject({ path: '/health' });
    expect(container.readinessProbe.httpGet).toMatchObject({ path: '/ready' });
    expect(container.startupProbe.httpGet).toMatchObject({ path: '/health' });
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      expect(probePort(container, probe.httpGet.port)).toBe(port);
    }
    // The app bounds its own readiness checks below the probe's timeout.
    expect(container.readinessProbe.timeoutSeconds * 1000).toBeGreaterThan(Number(config.READINESS_TIMEOUT_MS));
  });

  it('Deployment: grace period covers the preStop pause plus the drain (SHUTDOWN_TIMEOUT_MS)', () => {
    const deployment = only(manifests, 'Deployment');
    const config = only(manifests, 'ConfigMap').data;
    const pod = deployment.spec.template.spec;
    const pause = preStopPauseMs(pod.containers[0]);
    expect(pause).toBeGreaterThanOrEqual(5_000);
    expect(Number(config.SHUTDOWN_TIMEOUT_MS)).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(Number(config.SHUTDOWN_TIMEOUT_MS) + pause);
  });

  it('pods (Deployment and Job) run hardened: non-root uid, read-only root, no escalation, no capabilities, /tmp emptyDir, resources', () => {
    const dockerUser = Number(runtimeStage().instructions.findLast((i) => i.keyword === 'USER')!.args.split(':')[0]);
    for (const kind of ['Deployment', 'Job']) {
      const pod = only(manifests, kind).spec.template.spec;
      expect(pod.automountServiceAccountToken, kind).toBe(false);
      for (const container of pod.containers as Obj[]) {
        const security = effectiveSecurity(pod, container);
        const where = `${kind} ${container.name}`;
        expect(security.runAsNonRoot, where).toBe(true);
        expect(security.runAsUser, where).toBe(dockerUser);
        expect(security.runAsUser, where).toBeGreaterThan(0);
        expect(security.readOnlyRootFilesystem, where).toBe(true);
        expect(security.allowPrivilegeEscalation, where).toBe(false);
        expect(security.privileged ?? false, where).toBe(false);
        expect(security.capabilities?.drop, where).toContain('ALL');
        expect(security.capabilities?.add ?? [], where).toEqual([]);
        expect(security.seccompProfile?.type, where).toBe('RuntimeDefault');

        const tmp = (container.volumeMounts as Obj[]).find((m) => m.mountPath === '/tmp');
        expect(tmp, where).toBeDefined();
        expect((pod.volumes as Obj[]).find((v) => v.name === tmp!.name)?.emptyDir, where).toBeDefined();

        for (const resource of ['cpu', 'memory']) {
          const request = container.resources?.requests?.[resource];
          const limit = container.resources?.limits?.[resource];
          expect(request, `${where} requests.${resource}`).toBeDefined();
          expect(limit, `${where} limits.${resource}`).toBeDefined();
          expect(quantity(request), `${where} ${resource} request <= limit`).toBeLessThanOrEqual(quantity(limit));
        }
      }
    }
    const container = only(manifests, 'Deployment').spec.template.spec.containers[0];
    expect(container.resources).toEqual({ requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '1', memory: '384Mi' } });
    // The V8 heap cap must leave room inside the memory limit for code, buffers and the young generation.
    const options = (container.env as Obj[]).find((e) => e.name === 'NODE_OPTIONS')?.value as string | undefined;
    const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(options ?? '')?.[1]);
    expect(heapMiB, 'NODE_OPTIONS sets --max-old-space-size').toBeGreaterThan(0);
    expect(heapMiB * 1024 ** 2).toBeLessThanOrEqual(quantity(container.resources.limits.memory) * 0.7);
    // The pod runs the image's V8 flags: NODE_OPTIONS here replaces the image's, so they must agree.
    expect(options, 'the Deployment repeats the image NODE_OPTIONS').toBe(stageEnv(readDockerfile().at(-1)!).NODE_OPTIONS);
    expect(options).toMatch(/--max-semi-space-size=\d+/);
  });

  it('DATABASE_URL comes only from the Secret, through secretKeyRef; no connection string, secret value or Secret anywhere', () => {
    const secretish = /DATABASE_URL|SECRET|PASSWORD|TOKEN|PRIVATE_KEY|REDIS_URL/;
    for (const { file, doc } of manifests) {
      expect(doc.kind, file).not.toBe('Secret');
      for (const [at, value] of strings(doc)) {
        expect(value, `${file} ${at}`).not.toMatch(/(postgres(ql)?|rediss?):\/\/[^/\s]*@/i);
        expect(value, `${file} ${at}`).not.toMatch(/postgres(ql)?:\/\//i);
      }
    }
    for (const key of Object.keys(only(manifests, 'ConfigMap').data)) expect(key).not.toMatch(secretish);
    for (const kind of ['Deployment', 'Job']) {
      for (const container of only(manifests, kind).spec.template.spec.containers as Obj[]) {
        for (const entry of (container.env ?? []) as Obj[]) {
          if (secretish.test(entry.name)) expect(entry.valueFrom?.secretKeyRef, `${kind} ${entry.name}`).toBeDefined();
        }
      }
    }
    for (const kind of ['Deployment', 'Job']) {
      for (const container of only(manifests, kind).spec.template.spec.containers as Obj[]) {
        const entries = (container.env as Obj[]).filter((e) => e.name === 'DATABASE_URL');
        expect(entries, `${kind} ${container.name}`).toHaveLength(1);
        expect(entries[0]).toEqual({
          name: 'DATABASE_URL',
          valueFrom: { secretKeyRef: { name: 'user-api-gateway-db', key: 'DATABASE_URL' } },
        });
      }
    }
  });

  it('ConfigMap: the Deployment reads it; every key is one src/config.ts declares, and the app accepts the values', () => {
    const configMap = only(manifests, 'ConfigMap');
    const container = only(manifests, 'Deployment').spec.template.spec.containers[0];
    expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }]);
    const declared = declaredEnvNames();
    for (const key of Object.keys(configMap.data)) expect(declared, key).toContain(key);
    for (const key of ['METRICS_PORT', 'SHUTDOWN_TIMEOUT_MS', 'REQUEST_TIMEOUT_MS', 'PORT', 'LOG_LEVEL']) {
      expect(configMap.data).toHaveProperty(key);
    }
    expect(configMap.data.NODE_ENV).toBe('production');
    // The pod's whole environment: ConfigMap, then the container's env with stand-ins for Secrets.
    const config = loadConfig({ ...configMap.data, ...podEnv(container), DATABASE_URL: 'postgresql://app@db.invalid:5432/users' });
    expect(config.env).toBe('production');
    expect(config.graphiql).toBe(false);
    expect(config.http.metricsPort, 'metrics stay on the main port').toBeUndefined();
    expect(config.http.shutdownTimeoutMs).toBe(Number(configMap.data.SHUTDOWN_TIMEOUT_MS));
  });

  it('migration Job: same image, node dist/scripts/migrate.js, bounded retries, cleaned up, never restarted in place', () => {
    const job = only(manifests, 'Job');
    const deployment = only(manifests, 'Deployment');
    const [container] = job.spec.template.spec.containers;
    expect(container.image).toBe(deployment.spec.template.spec.containers[0].image);
    expect(container.command).toEqual(['node', 'dist/scripts/migrate.js']);
    expect(job.spec.backoffLimit).toBeGreaterThanOrEqual(0);
    expect(job.spec.backoffLimit).toBeLessThanOrEqual(5);
    expect(job.spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
    expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  });

  it('kustomization pins every image the pods use', () => {
    const names = new Set((kustomization.images as Obj[]).map((i) => i.name));
    for (const kind of ['Deployment', 'Job']) {
      for (const container of only(manifests, kind).spec.template.spec.containers as Obj[]) {
        expect(names, `${kind} ${container.name}`).toContain(container.image);
      }
    }
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!kubectl)('renders with `kubectl kustomize` into valid manifests with the image pinned', () => {
    const out = spawnSync('kubectl', ['kustomize', k8sDir], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    const docs = readYamlDocs('kubectl kustomize', out.stdout);
    expect(docs).toHaveLength(manifests.length);
    for (const doc of docs) expect(schemaErrors(doc), `${doc.kind}`).toEqual([]);
    const images = docs.flatMap((d) => (d.spec?.template?.spec?.containers ?? []).map((c: Obj) => c.image as string));
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image).toMatch(/^[^:]+\/user-api-gateway:[\w.-]+$/);
  });
});

function readDockerfile(): Stage[] {
  return parseDockerfile(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
}

function runtimeStage(): Stage {
  return readDockerfile().at(-1)!;
}

function instruction(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.findLast((i) => i.keyword === keyword);
}

describe('Dockerfile', () => {
  const stages = readDockerfile();
  const runtime = stages.at(-1)!;

  it('is multi-stage on a pinned Node 24 image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.image).toMatch(/^node:24\.\d+\.\d+(-[a-z0-9.-]+)?(@sha256:[0-9a-f]{64})?$/);
  });

  it('builds with npm ci, offline prisma generate and npm run build', () => {
    const runs = stages.flatMap((s) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args));
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => r.includes('scripts/generate.mjs'))).toBe(true);
    expect(runs.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    const generating = stages.find((s) => s.instructions.some((i) => i.keyword === 'RUN' && i.args.includes('scripts/generate.mjs')))!;
    expect(stageEnv(generating).CHECKPOINT_DISABLE).toBe('1');
  });

  it('runs production-only, compiled code as a non-root user', () => {
    expect(stageEnv(runtime).NODE_ENV).toBe('production');
    const user = instruction(runtime, 'USER')?.args ?? '';
    expect(user).toMatch(/^\d+(:\d+)?$/); // numeric, so runAsNonRoot can verify it
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    expect(instruction(runtime, 'EXPOSE')?.args).toBe('4000');
    const runtimeText = runtime.instructions.map((i) => `${i.keyword} ${i.args}`).join('\n');
    expect(runtimeText).not.toMatch(/\b(tsx|ts-node)\b/);
    expect(runtimeText).not.toMatch(/\.ts\b/);

    // node_modules comes from a stage that installed production dependencies only.
    const modules = stageCopies(runtime).find((c) => c.dest.replace(/\/$/, '').endsWith('node_modules'));
    expect(modules?.from).toBeDefined();
    const source = stages.find((s) => s.name === modules!.from)!;
    const installs = source.instructions.filter((i) => i.keyword === 'RUN' && /\bnpm (ci|prune)\b/.test(i.args));
    expect(installs.length).toBeGreaterThan(0);
    for (const i of installs) expect(i.args).toMatch(/--omit=dev/);
    expect(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).dependencies).not.toHaveProperty('tsx');
  });

  it('starts with exec-form CMD ["node", "dist/src/main.js"] and checks /health with node', () => {
    expect(execForm(instruction(runtime, 'CMD')!.args)).toEqual(['node', 'dist/src/main.js']);
    expect(instruction(runtime, 'ENTRYPOINT')).toBeUndefined();
    const healthcheck = splitFlags(instruction(runtime, 'HEALTHCHECK')!.args).rest;
    expect(healthcheck).toMatch(/^CMD\s+\[/);
    const argv = execForm(healthcheck.replace(/^CMD\s+/, ''))!;
    expect(argv[0]).toBe('node');
    expect(argv.join(' ')).toContain('/health');
  });

  it('copies only what exists in the build context and .dockerignore lets through', () => {
    const ignored = dockerignore(readFileSync(path.join(root, '.dockerignore'), 'utf8'));
    for (const file of ['node_modules', 'dist', '.data', '.git', '.env', 'coverage', 'src/generated', 'bench/node_modules', 'x.cpuprofile']) {
      expect(ignored(file), file).toBe(true);
    }
    const copies = stages.flatMap((s) => stageCopies(s)).filter((c) => c.from === undefined);
    expect(copies.length).toBeGreaterThan(0);
    for (const { sources } of copies) {
      for (const source of sources) {
        expect(existsSync(path.join(root, source)), source).toBe(true);
        expect(ignored(path.posix.normalize(source)), `${source} is in .dockerignore`).toBe(false);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The compiled server, started as the image starts it
// ---------------------------------------------------------------------------------------------

/**
 * Lays out the runtime stage's files in a temporary directory from its COPY instructions: build-context
 * files and the build stage's outputs (its WORKDIR maps to the repository, where `npm run build` has
 * just run); node_modules is linked rather than copied (so it holds dev dependencies too).
 */
function assembleRuntime(stages: Stage[]): string {
  const runtime = stages.at(-1)!;
  const workdir = stageWorkdir(runtime);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'user-api-gateway-image-'));
  for (const copy of stageCopies(runtime)) {
    const from = copy.from === undefined ? undefined : stages.find((s) => s.name === copy.from);
    if (copy.from !== undefined && !from) throw new Error(`COPY --from=${copy.from}: no such stage`);
    const dest = path.posix.resolve(workdir, copy.dest);
    for (const source of copy.sources) {
      const rel = from ? path.posix.relative(stageWorkdir(from), path.posix.resolve(stageWorkdir(from), source)) : path.posix.normalize(source);
      if (rel.startsWith('..')) throw new Error(`COPY ${source} is outside the stage's WORKDIR`);
      const local = path.join(root, rel);
      const isDir = statSync(local).isDirectory();
      const target = copy.dest.endsWith('/') && !isDir ? path.posix.join(dest, path.posix.basename(source)) : dest;
      const out = path.join(dir, path.posix.relative(workdir, target));
      mkdirSync(path.dirname(out), { recursive: true });
      if (rel === 'node_modules') symlinkSync(local, out, 'dir');
      else cpSync(local, out, { recursive: true });
    }
  }
  return dir;
}

/** A container's `env` as the process would see it, with SECRET_STAND_INS for secretKeyRef values. */
function podEnv(container: Obj): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of (container.env ?? []) as Obj[]) {
    if (typeof entry.value === 'string') env[entry.name] = entry.value;
    else if (entry.valueFrom?.secretKeyRef) {
      if (!(entry.name in SECRET_STAND_INS)) throw new Error(`no test stand-in for ${entry.name} (from a Secret): add one to SECRET_STAND_INS`);
      const standIn = SECRET_STAND_INS[entry.name];
      if (standIn !== null && standIn !== undefined) env[entry.name] = standIn;
    } else throw new Error(`unsupported env source for ${entry.name}`);
  }
  return env;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs an argv whose first word is `node` with this Node (the image's node), collecting output. */
function run(argv: string[], options: { cwd: string; env: Record<string, string> }) {
  const [command, ...args] = argv;
  expect(command).toBe('node');
  const child = spawn(process.execPath, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as string | null }));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('the image CMD on the compiled server', () => {
  const stages = readDockerfile();
  const runtime = stages.at(-1)!;
  const manifests = readManifests();
  const configMap = only(manifests, 'ConfigMap').data as Record<string, string>;
  const container = only(manifests, 'Deployment').spec.template.spec.containers[0];
  let dir: string;
  let port: number;
  let env: Record<string, string>;
  let server: ReturnType<typeof run> | undefined;

  beforeAll(async () => {
    // What the build stage runs (dist/ is what the runtime stage copies from it).
    const build = spawnSync('npm', ['run', 'build'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, PATH: [path.join(root, 'node_modules/.bin'), process.env.PATH].join(path.delimiter) },
    });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
    dir = assembleRuntime(stages);
    port = await freePort();
    // The image's ENV, then the ConfigMap (as envFrom) and the container's env, then what a test box
    // needs: loopback, a free port, stand-ins for Secrets and an in-memory database for DATABASE_URL.
    env = {
      PATH: process.env.PATH ?? '',
      ...stageEnv(runtime),
      ...configMap,
      ...podEnv(container),
      HOST: '127.0.0.1',
      PORT: String(port),
      EMBEDDED_DATA_DIR: 'memory://',
      LOG_LEVEL: 'info',
    };
  }, 600_000);

  afterAll(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the runtime files hold what the Deployment and Job run', () => {
    const cmd = execForm(instruction(runtime, 'CMD')!.args)!;
    expect(existsSync(path.join(dir, cmd[1]!))).toBe(true);
    const job = only(manifests, 'Job').spec.template.spec.containers[0];
    expect(existsSync(path.join(dir, job.command[1]))).toBe(true);
    expect(existsSync(path.join(dir, 'package.json'))).toBe(true);
    expect(readdirSync(path.join(dir, 'prisma/migrations')).length).toBeGreaterThan(0);
  });

  it('starts, answers the probes and the HEALTHCHECK, and exits 0 on SIGTERM', { timeout: 300_000 }, async () => {
    expect(env.NODE_ENV).toBe('production');
    const cmd = execForm(instruction(runtime, 'CMD')!.args)!;
    server = run(cmd, { cwd: dir, env });
    const started = Date.now();
    let listening: Obj | undefined;
    while (!listening) {
      const { stdout, stderr } = server.output();
      if (server.child.exitCode !== null) throw new Error(`server exited ${server.child.exitCode}:\n${stdout}\n${stderr}`);
      // Waits for the line, however long a loaded machine takes to start it; the bound only ends a hang.
      if (Date.now() - started > 240_000) throw new Error(`no "listening" log line in 240 s:\n${stdout}\n${stderr}`);
      listening = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Obj)
        .find((l) => l.port === port);
      if (!listening) await new Promise((r) => setTimeout(r, 100));
    }
    expect(server.output().stdout).toContain(`"port":${port}`);

    const base = `http://127.0.0.1:${port}`;
    const health = await fetch(base + container.livenessProbe.httpGet.path);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'healthy' });
    const ready = await fetch(base + container.readinessProbe.httpGet.path);
    expect(ready.status).toBe(200);
    expect((await ready.json()).status).toBe('ready');
    const metrics = await fetch(base + only(manifests, 'ServiceMonitor').spec.endpoints[0].path);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^# HELP /m);

    const healthcheck = execForm(splitFlags(instruction(runtime, 'HEALTHCHECK')!.args).rest.replace(/^CMD\s+/, ''))!;
    const healthy = run(healthcheck, { cwd: dir, env: { ...stageEnv(runtime), PATH: env.PATH!, PORT: String(port) } });
    expect((await healthy.exited).code, JSON.stringify(healthy.output())).toBe(0);
    const closed = await freePort();
    const unhealthy = run(healthcheck, { cwd: dir, env: { ...stageEnv(runtime), PATH: env.PATH!, PORT: String(closed) } });
    expect((await unhealthy.exited).code, 'HEALTHCHECK fails when nothing answers').toBe(1);

    server.child.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit, JSON.stringify(server.output())).toEqual({ code: 0, signal: null });
  });

  it('runs the migration Job command', { timeout: 300_000 }, async () => {
    const job = only(manifests, 'Job').spec.template.spec.containers[0];
    const jobEnv = { PATH: process.env.PATH ?? '', ...stageEnv(runtime), ...podEnv(job), EMBEDDED_DATA_DIR: 'memory://' };
    const migrate = run(job.command, { cwd: dir, env: jobEnv });
    const exit = await migrate.exited;
    expect(exit.code, JSON.stringify(migrate.output())).toBe(0);
    expect(migrate.output().stdout).toMatch(/Applied \d+ migration/);
  });
});

