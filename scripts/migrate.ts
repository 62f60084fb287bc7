// Applies pending migrations (`npm run db:migrate`) to the configured database: PostgreSQL when
// DATABASE_URL is set, else the embedded PGlite database in EMBEDDED_DATA_DIR. Safe to run from several
// replicas at once (PostgreSQL's advisory lock serializes them). Exit code 0 on success, 1 on failure.
import { ConfigError, loadDatabaseConfig } from '../src/config.js';
import { migrateDatabase } from '../src/db.js';

const log = (msg: string) => process.stderr.write(`  ${msg}\n`);

try {
  const applied = await migrateDatabase(loadDatabaseConfig(), log);
  process.stdout.write(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}\n` : 'Database is up to date\n');
  // Exit explicitly: the WASM schema engine leaves a timer behind that would hold the process ~10 s.
  process.exit(0);
} catch (error) {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`Migration failed: ${message}\n`);
  process.exit(1);
}
