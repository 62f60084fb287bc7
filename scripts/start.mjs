// `npm start`: the compiled server (dist/, as the image runs it), rebuilt first only when a source of the
// build changed since the last `npm start` built it. Deciding that costs a few milliseconds (a digest of
// the sources), where `tsc` itself, even incremental, takes seconds to find there is nothing to do.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = path.join(root, 'dist/src/main.js');
const stampFile = path.join(root, 'dist/.sources-digest');

/** What tsconfig.build.json compiles, and the settings it compiles with. */
function sources() {
  const walk = (dir) =>
    readdirSync(path.join(root, dir)).flatMap((name) => {
      const rel = path.join(dir, name);
      return statSync(path.join(root, rel)).isDirectory() ? walk(rel) : /\.(ts|mts|json)$/.test(name) ? [rel] : [];
    });
  return [...walk('src'), 'scripts/migrate.ts', 'prisma/seed.ts', ...walk('prisma/seed'), 'tsconfig.json', 'tsconfig.build.json', 'package.json'].sort();
}

function digest() {
  const hash = createHash('sha256');
  for (const file of sources())
    hash
      .update(`${file}\0`)
      .update(readFileSync(path.join(root, file)))
      .update('\0');
  return hash.digest('hex');
}

const current = digest();
const built = existsSync(stampFile) && existsSync(entry) ? readFileSync(stampFile, 'utf8') : '';
if (built !== current) {
  process.stderr.write(built ? 'Sources changed since the last build: building (tsc)…\n' : 'Building (tsc)…\n');
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  writeFileSync(stampFile, current);
}

// V8's compile cache: later starts skip compiling the JavaScript of the server and its dependencies.
module.enableCompileCache?.(path.join(root, 'node_modules/.cache/node-compile-cache'));
await import(pathToFileURL(entry).href);
