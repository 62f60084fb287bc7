// The compiled server started the way the image starts it: its CMD, ENV and runtime files, assembled from
// the Dockerfile (helpers/dockerfile.ts), with the ConfigMap and the pod env of the manifests in k8s/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assembleRuntime, execForm, instruction, readDockerfile, splitFlags, stageEnv } from './helpers/dockerfile.js';
import { type Obj, only, podEnv, readManifests, root } from './helpers/k8s.js';
import { spawnProcess } from './helpers/process.js';

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

/**
 * Runs an argv whose first word is `node` with this Node (the image's node), collecting output; the
 * process is reaped when its test ends (helpers/process.ts).
 */
function run(argv: string[], options: { cwd: string; env: Record<string, string> }) {
  const [command, ...args] = argv;
  expect(command).toBe('node');
  const server = spawnProcess(process.execPath, args, options);
  return { child: server.child, exited: server.ended, output: () => ({ stdout: server.stdout(), stderr: server.stderr() }) };
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
    const listening = () =>
      server!
        .output()
        .stdout.split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Obj)
        .find((l) => l.port === port);
    // Waits for the line, however long a loaded machine takes to start it; the bound only ends a hang.
    await vi.waitFor(
      () => {
        const { stdout, stderr } = server!.output();
        if (!listening() && server!.child.exitCode === null) throw new Error(`no "listening" log line in 240 s:\n${stdout}\n${stderr}`);
      },
      { timeout: 240_000, interval: 100 },
    );
    if (!listening()) {
      const { stdout, stderr } = server.output();
      throw new Error(`server exited ${server.child.exitCode}:\n${stdout}\n${stderr}`);
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
