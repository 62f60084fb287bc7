// Every manifest in k8s/ against the Kubernetes JSON schemas (kubernetes-models), and the invariants that
// keep rollouts and shutdowns safe. The readers and the schema checks are in helpers/k8s.ts.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { runtimeStage, stageEnv } from './helpers/dockerfile.js';
import {
  APP,
  declaredEnvNames,
  effectiveSecurity,
  k8sDir,
  type Obj,
  only,
  podEnv,
  preStopPauseMs,
  probePort,
  quantity,
  readKustomization,
  readManifests,
  readYamlDocs,
  schemaErrors,
  selects,
  strings,
  undeclaredFields,
} from './helpers/k8s.js';

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
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
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
    const dockerUser = Number(
      runtimeStage()
        .instructions.findLast((i) => i.keyword === 'USER')!
        .args.split(':')[0],
    );
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
    expect(options, 'the Deployment repeats the image NODE_OPTIONS').toBe(stageEnv(runtimeStage()).NODE_OPTIONS);
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
