// The k8s/ manifests as the tests read them: the kustomization's resources parsed from YAML, each checked
// against the Kubernetes JSON schemas (kubernetes-models) including fields the schema does not declare,
// and small readers of what the manifests say (selectors, quantities, probes, security, pod env).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

export type Obj = Record<string, any>;

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const k8sDir = path.join(root, 'k8s');
export const APP = 'user-api-gateway';

/**
 * What the image test (image.test.ts) uses for each variable the pods take from a Secret: DATABASE_URL gives way to the
 * in-memory embedded database; anything else needs a stand-in here (the test fails on an unknown one).
 */
export const SECRET_STAND_INS: Record<string, string | null> = {
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
export const models: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

export interface SchemaError {
  instancePath: string;
  message?: string;
}

/** The JSON-schema errors of one manifest ([] when valid). */
export function schemaErrors(doc: Obj): SchemaError[] {
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
export function undeclaredFields(doc: Obj): string[] {
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

export interface Manifest {
  file: string;
  doc: Obj;
}

export function readYamlDocs(file: string, text: string): Obj[] {
  return parseAllDocuments(text).map((d, i) => {
    if (d.errors.length) throw new Error(`${file} document ${i}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Obj;
  });
}

export function readKustomization(dir = k8sDir): Obj {
  return readYamlDocs('kustomization.yaml', readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'))[0]!;
}

export function readManifests(dir = k8sDir): Manifest[] {
  const kustomization = readKustomization(dir);
  return (kustomization.resources as string[]).flatMap((file) =>
    readYamlDocs(file, readFileSync(path.join(dir, file), 'utf8'))
      .filter((doc) => doc !== null)
      .map((doc) => ({ file, doc })),
  );
}

export function only(manifests: Manifest[], kind: string): Obj {
  const found = manifests.filter((m) => m.doc.kind === kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0]!.doc;
}

/** True when every matchLabels entry is among the labels (the selector selects them). */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Every string anywhere in a document, with its path. */
export function strings(value: unknown, at = ''): [string, string][] {
  if (typeof value === 'string') return [[at, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${at}/${i}`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => strings(v, `${at}/${k}`));
  return [];
}

/** Kubernetes quantities, enough for CPU and memory: 250m, 1, 1.5, 256Mi, 1Gi, 500M. */
export function quantity(q: string | number): number {
  const m = /^([0-9.]+)(m|k|M|G|Ki|Mi|Gi)?$/.exec(String(q));
  if (!m) throw new Error(`unparsed quantity ${q}`);
  const factor = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * factor;
}

/** The preStop pause in ms: the built-in sleep action or an exec of `sleep N`. */
export function preStopPauseMs(container: Obj): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return preStop.sleep.seconds * 1000;
  const command: string[] | undefined = preStop?.exec?.command;
  if (command && /(^|\/)sleep$/.test(command[0] ?? '') && command.length === 2) return Number(command[1]) * 1000;
  return 0;
}

/** The container port a probe's `port` (name or number) refers to. */
export function probePort(container: Obj, port: string | number): number | undefined {
  if (typeof port === 'number') return port;
  return (container.ports as Obj[] | undefined)?.find((p) => p.name === port)?.containerPort;
}

/** Pod-level security settings with the container's overriding them, as the kubelet applies them. */
export function effectiveSecurity(pod: Obj, container: Obj): Obj {
  return { ...(pod.securityContext ?? {}), ...(container.securityContext ?? {}) };
}

/** Names of the variables src/config.ts declares (the keys of its envSchema). */
export function declaredEnvNames(): Set<string> {
  const source = readFileSync(path.join(root, 'src/config.ts'), 'utf8');
  const block = /const envSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(source);
  if (!block) throw new Error('envSchema not found in src/config.ts');
  return new Set([...block[1]!.matchAll(/^\s{2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!));
}

/** A container's `env` as the process would see it, with SECRET_STAND_INS for secretKeyRef values. */
export function podEnv(container: Obj): Record<string, string> {
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
