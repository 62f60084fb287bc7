import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { EVENT_TYPES, type EventType } from '../../src/events/index.js';

/** The committed asyncapi.yaml, as consumers read it. */
export function committedAsyncApi(): { text: string; document: any } {
  const text = readFileSync(new URL('../../asyncapi.yaml', import.meta.url), 'utf8');
  return { text, document: parse(text) };
}

export interface PublishedValidators {
  readonly headers: ValidateFunction;
  readonly body: Record<EventType, ValidateFunction>;
}

/** ajv (JSON Schema draft-07, formats checked) over the message schemas of the committed asyncapi.yaml. */
export function publishedValidators(): PublishedValidators {
  const { document } = committedAsyncApi();
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats.default(ajv);
  const schemas = document.components.schemas as Record<string, object>;
  const body = Object.fromEntries(EVENT_TYPES.map((type) => [type, ajv.compile(schemas[type]!)])) as Record<EventType, ValidateFunction>;
  return { headers: ajv.compile(schemas.headers!), body };
}
