import type { TestProject } from 'vitest/node';
import { adminUrl, createTemplateDatabase, dropDatabase, testServerUrl } from './helpers/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Migrated template database each test file copies, or null when the suite runs on PGlite. */
    pgTemplate: { serverUrl: string; name: string } | null;
  }
}

/**
 * On PostgreSQL, migrate one template database once; every test file then gets its own copy
 * (CREATE DATABASE ... TEMPLATE), so files run in parallel without seeing each other's rows.
 */
export default async function setup(project: TestProject) {
  const serverUrl = testServerUrl();
  if (!serverUrl) {
    process.stdout.write('Tests run on embedded PGlite (set TEST_DATABASE_URL to run them on PostgreSQL)\n');
    project.provide('pgTemplate', null);
    return;
  }
  const name = await createTemplateDatabase(serverUrl);
  process.stdout.write(`Tests run on PostgreSQL at ${new URL(adminUrl(serverUrl)).host}\n`);
  project.provide('pgTemplate', { serverUrl, name });
  return async () => {
    await dropDatabase(serverUrl, name);
  };
}
