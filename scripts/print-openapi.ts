// Writes openapi.json (`npm run openapi:print`): the REST API's OpenAPI 3.1 document, from src/rest/openapi.ts.
import { writeFileSync } from 'node:fs';
import { renderOpenApi } from '../src/rest/openapi.js';

const file = new URL('../openapi.json', import.meta.url);
writeFileSync(file, renderOpenApi());
process.stdout.write(`wrote ${file.pathname}\n`);
