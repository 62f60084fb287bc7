// Runs `prisma generate` offline. The Prisma CLI tries to download its native schema engine on every
// command, although generate never uses it; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file
// skips that download (see README, "Prisma without native engines").
import { spawnSync } from 'node:child_process';
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
process.exit(result.status ?? 1);
