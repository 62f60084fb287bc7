import { afterAll, beforeAll, inject } from 'vitest';
import { createDatabase, databaseUrl, dropDatabase, uniqueDatabaseName } from './postgres.js';

/**
 * A migrated PostgreSQL database of the test file's own (copied from the template), for tests that
 * run the server as a separate process. `url()` is empty when the suite runs on PGlite.
 */
export function usePostgresDatabase(): { url: () => string; available: boolean } {
  const template = inject('pgTemplate');
  let url = '';
  let name = '';
  beforeAll(async () => {
    if (!template) return;
    name = uniqueDatabaseName('uag_test');
    await createDatabase(template.serverUrl, name, template.name);
    url = databaseUrl(template.serverUrl, name);
  });
  afterAll(async () => {
    if (template && name) await dropDatabase(template.serverUrl, name);
  });
  return { url: () => url, available: template !== null };
}

/**
 * True when the suite runs on PostgreSQL (TEST_DATABASE_URL or DATABASE_URL set), false on PGlite. Races,
 * locks and pools only mean something there: PGlite has one connection.
 */
export const onPostgres: boolean = inject('pgTemplate') !== null;
