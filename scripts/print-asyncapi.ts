// Writes asyncapi.yaml (`npm run events:print`): the event contract as an AsyncAPI 3 document.
import { writeFileSync } from 'node:fs';
import { ASYNCAPI_FILE, renderAsyncApi } from './asyncapi.js';

writeFileSync(ASYNCAPI_FILE, renderAsyncApi());
process.stdout.write(`wrote ${ASYNCAPI_FILE.pathname}\n`);
