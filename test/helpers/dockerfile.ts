// The Dockerfile as the tests read it: a small parser (continuations joined, comments dropped, stages
// grouped by FROM), readers of a stage's ENV, WORKDIR and COPY, a .dockerignore matcher, and the runtime
// stage's files laid out in a directory as the image would hold them.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions with line continuations joined and comments dropped, grouped by FROM. */
export function parseDockerfile(text: string): Stage[] {
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
export function splitFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (let m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest); m; m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest)) {
    flags[m[1]!] = m[2] ?? '';
    rest = rest.slice(m[0].length);
  }
  return { flags, rest: rest.trim() };
}

/** The argv of an exec-form instruction (CMD, ENTRYPOINT, HEALTHCHECK CMD); undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const argv = JSON.parse(args) as unknown;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw new Error(`not an exec form: ${args}`);
  return argv;
}

export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      env[m[1]!] = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
    }
  }
  return env;
}

export function stageWorkdir(stage: Stage): string {
  return stage.instructions.filter((i) => i.keyword === 'WORKDIR').reduce((dir, i) => path.posix.resolve(dir, i.args), '/');
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}

export function stageCopies(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')
    .map((i) => {
      const { flags, rest } = splitFlags(i.args);
      const words = execForm(rest) ?? rest.split(/\s+/);
      return { from: flags.from, sources: words.slice(0, -1), dest: words.at(-1)! };
    });
}

/** A .dockerignore matcher: Go filepath.Match-style patterns, `**`, `!` exceptions, last match wins. */
export function dockerignore(text: string): (file: string) => boolean {
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
          part === '**'
            ? '.*'
            : part
                .replace(/[.+^${}()|\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\.\*\//g, '(?:.*/)?');
      return { negate, re: new RegExp(`^${body}(?:/.*)?$`) };
    });
  return (file) => rules.reduce((excluded, r) => (r.re.test(file) ? !r.negate : excluded), false);
}

export function readDockerfile(): Stage[] {
  return parseDockerfile(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
}

export function runtimeStage(): Stage {
  return readDockerfile().at(-1)!;
}

export function instruction(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.findLast((i) => i.keyword === keyword);
}

/**
 * Lays out the runtime stage's files in a temporary directory from its COPY instructions: build-context
 * files and the build stage's outputs (its WORKDIR maps to the repository, where `npm run build` has
 * just run); node_modules is linked rather than copied (so it holds dev dependencies too).
 */
export function assembleRuntime(stages: Stage[]): string {
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
