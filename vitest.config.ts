import { defineConfig } from 'vitest/config';

// CI asks for a JSON report beside the usual output, to print a plain "N passed, N failed" line.
const jsonReport = process.env.VITEST_JSON_REPORT;

export default defineConfig({
  ssr: { resolve: { conditions: ['module-sync', 'node', 'production'], externalConditions: ['module-sync', 'node', 'production'] } },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // graphql 17 ships a development build next to the default one, and two copies of graphql in one
    // process do not work together. Node (`import` and `require`) picks the default build; Vite would
    // pick the development one for what it resolves. Vite resolves with Node's conditions here, so
    // every package (inlined or not, ESM or CommonJS) gets the one build production runs, and Vite
    // resolves graphql for the packages that build or execute schemas.
    server: { deps: { inline: [/@pothos\//, /graphql-yoga/, /@graphql-yoga\//, /@envelop\//, /@graphql-tools\//, /graphql-query-complexity/, /graphql-jit/] } },
    // Generous: a loaded two-core machine can take tens of seconds for what takes one alone. Tests wait
    // on events and readiness, so a passing test takes no longer for it.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: more workers only queue on the database and the WASM engines.
    maxWorkers: 2,
    reporters: jsonReport ? ['default', 'json'] : ['default'],
    outputFile: jsonReport ? { json: jsonReport } : undefined,
  },
});
