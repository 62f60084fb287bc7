// Validates real REST responses against the checked-in openapi.json: the status must be documented for
// the operation, the media type must be the documented one, and the body must match its schema.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

export const OPENAPI_FILE = new URL('../../openapi.json', import.meta.url);
export const openapi = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Record<string, any>;

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema(openapi, 'openapi.json');

const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

export interface RestResponse {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

/** Asserts the response is what the document says `method pathTemplate` answers with its status. */
export function expectDocumented(method: string, pathTemplate: string, res: RestResponse): void {
  const operation = openapi.paths[pathTemplate]?.[method.toLowerCase()];
  expect(operation, `${method} ${pathTemplate} is in openapi.json`).toBeDefined();
  let pointer = `/paths/${escape(pathTemplate)}/${method.toLowerCase()}/responses/${res.status}`;
  let response = operation.responses[String(res.status)];
  expect(response, `${method} ${pathTemplate} documents ${res.status}`).toBeDefined();
  if (response.$ref) {
    pointer = (response.$ref as string).slice(1);
    response = pointer
      .split('/')
      .slice(1)
      .reduce((node: any, key) => node[key.replace(/~1/g, '/').replace(/~0/g, '~')], openapi);
  }
  if (!response.content) {
    expect(res.text, `${res.status} has no body`).toBe('');
    return;
  }
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  expect(Object.keys(response.content), `content type of ${res.status}`).toContain(type);
  const validate = ajv.compile({ $ref: `openapi.json#${pointer}/content/${escape(type)}/schema` });
  const ok = validate(res.body);
  expect(ok ? [] : validate.errors, `${method} ${pathTemplate} ${res.status} body matches its schema`).toEqual([]);
}
