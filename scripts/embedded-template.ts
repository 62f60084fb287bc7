// Builds the migrated template that new embedded databases start from (npm install runs this), so the
// first `npm start` after a clone is as quick as the later ones. Best effort: the server builds the
// template itself when it is missing, so a failure here only costs that first start a few seconds.
import { templateTarball } from '../src/embedded/template.js';

try {
  await templateTarball();
} catch (error) {
  process.stderr.write(`note: the embedded database template was not built (${error instanceof Error ? error.message : String(error)}); the first start builds it\n`);
}
// Exit explicitly: the WASM schema engine leaves a timer behind.
process.exit(0);
