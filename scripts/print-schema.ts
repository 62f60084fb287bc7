// Prints the served schema to schema.graphql (`npm run schema:print`). The test suite fails when the
// committed file is stale, so every API change shows up in review.
import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { schema } from '../src/schema/index.js';

const file = new URL('../schema.graphql', import.meta.url);
writeFileSync(file, `${printSchema(schema)}\n`);
process.stdout.write(`wrote ${file.pathname}\n`);
