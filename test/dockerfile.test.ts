// The Dockerfile's shape: pinned multi-stage Node 24, production-only runtime as a non-root user, exec-form
// CMD and HEALTHCHECK, and COPY sources the build context and .dockerignore let through. The parser is in
// helpers/dockerfile.ts.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerignore, execForm, instruction, readDockerfile, splitFlags, stageCopies, stageEnv } from './helpers/dockerfile.js';
import { root } from './helpers/k8s.js';

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

  it('applies the dependency patches to the node_modules it ships, with the locked patch-package', () => {
    // The deps stage installs with --ignore-scripts (no postinstall), so it applies patches/ itself, with
    // the patch-package the lockfile installs (a pinned dev dependency), before pruning dev dependencies.
    const modules = stageCopies(runtime).find((c) => c.dest.replace(/\/$/, '').endsWith('node_modules'))!;
    const deps = stages.find((s) => s.name === modules.from)!;
    expect(stageCopies(deps).some((c) => c.sources.some((s) => s.replace(/\/$/, '') === 'patches'))).toBe(true);
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.devDependencies['patch-package']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.scripts.postinstall).toMatch(/^patch-package --error-on-fail --error-on-warn && /);
    const run = deps.instructions.find((i) => i.keyword === 'RUN' && i.args.includes('patch-package'))?.args ?? '';
    const steps = run.split('&&').map((step) => step.replace(/^--mount=\S+\s+/, '').trim());
    const at = (pattern: RegExp) => steps.findIndex((step) => pattern.test(step));
    const patch = at(/^npx --no-install patch-package --error-on-fail --error-on-warn$/);
    expect(patch).toBeGreaterThan(at(/^npm ci\b/));
    expect(at(/^npm prune --omit=dev --omit=optional\b/)).toBeGreaterThan(patch);
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
