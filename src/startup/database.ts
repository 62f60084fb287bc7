import type { DatabaseConfig } from '../config.js';
import type { Database } from '../db.js';
import { DEVELOPMENT_ADMIN, ensureDevelopmentAdmin } from '../dev-admin.js';
import type { Logger } from '../logger.js';
import { migrationStatus } from '../migrations.js';
import { seedSample } from '../../prisma/seed/sample.js';
import { maskUrl, StartupError, unreachableDatabase } from './errors.js';

/**
 * What the server checks and does with its database before it serves, so a problem is one line at
 * start-up rather than a stack on the first request:
 * - PostgreSQL must answer and have every migration applied (the server does not migrate it: see
 *   README, "Running on PostgreSQL");
 * - an embedded database created by this start gets the sample dataset and the development admin,
 *   unless SEED_EMBEDDED=false.
 */
export async function prepareDatabase(db: Database, config: DatabaseConfig, logger: Logger): Promise<void> {
  if (db.kind === 'postgresql') {
    const url = config.url!;
    await db.pool!.query('SELECT 1').catch((error: unknown) => {
      throw unreachableDatabase(url, error);
    });
    const { pending, failed } = await migrationStatus(db.adapterFactory);
    if (failed.length > 0) {
      throw new StartupError(`Migration ${failed[0]} failed part-way on ${maskUrl(url)}: fix the database, then run \`npm run db:migrate\`.`);
    }
    if (pending.length > 0) {
      const list = pending.length > 3 ? `${pending.slice(0, 3).join(', ')}, …` : pending.join(', ');
      throw new StartupError(`The database at ${maskUrl(url)} is not migrated (${pending.length} pending: ${list}): run \`npm run db:migrate\` first.`);
    }
    return;
  }
  if (db.created && config.seedEmbedded) {
    const counts = await seedSample(db.prisma);
    await ensureDevelopmentAdmin(db.prisma);
    logger.info(
      { ...counts, admin: DEVELOPMENT_ADMIN.email },
      `new embedded database: seeded ${counts.users} sample users, ${counts.teams} teams and the development admin ${DEVELOPMENT_ADMIN.email} (SEED_EMBEDDED=false skips this)`,
    );
  }
}
