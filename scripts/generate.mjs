// Runs `prisma generate` offline. The Prisma CLI tries to download its native schema engine on every
// command, although generate never uses it; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file
// skips that download (see README, "Prisma without native engines").
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
// Generators such as prisma-pothos-types are found on PATH, as under `npm run`.
env.PATH = [path.join(root, 'node_modules/.bin'), env.PATH ?? ''].join(path.delimiter);
const result = spawnSync(process.execPath, [`${root}node_modules/prisma/build/index.js`, 'generate', '--no-hints'], {
  cwd: root,
  env,
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);

// The generated client imports its query compiler as a JavaScript module whose only export is the
// WASM binary in base64 (4.4 MB). A loaded module's source text and that string stay in the heap for
// the life of the process: 8.7 MiB of an idle server's 50 MiB heap. The loader is rewritten to read
// the same file, take the string out, decode and compile it, after which both are garbage. Same
// bytes, same compiler. If Prisma changes how it loads the compiler, this stops with a message
// instead of silently keeping the old behaviour (test/layers.test.ts checks the patch is there).
const classFile = path.join(root, 'src/generated/prisma/internal/class.ts');
const generated = readFileSync(classFile, 'utf8');
const loader = /const \{ wasm \} = await import\("(@prisma\/client\/runtime\/query_compiler_\w+\.\w+\.wasm-base64)\.mjs"\)\n(\s*)return await decodeBase64AsWasm\(wasm\)/;
const found = loader.exec(generated);
if (!found) {
  process.stderr.write('generate: the Prisma client no longer imports its query compiler as expected; update the patch in scripts/generate.mjs\n');
  process.exit(1);
}
const [, module, indent] = found;
writeFileSync(
  classFile,
  generated.replace(
    loader,
    [
      `// Patched by scripts/generate.mjs: the base64 is read as a file, so no loaded module keeps it alive.`,
      `const { readFile } = await import('node:fs/promises')`,
      `const { createRequire } = await import('node:module')`,
      `const source = await readFile(createRequire(import.meta.url).resolve(${JSON.stringify(`${module}.js`)}), 'utf8')`,
      `return await decodeBase64AsWasm(/"([A-Za-z0-9+/=]+)"/.exec(source)[1])`,
    ].join(`\n${indent}`),
  ),
);
