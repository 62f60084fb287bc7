import { z } from 'zod';
import { FieldError, ValidationError } from './errors.js';

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NO_CONTROL_CHARS = /^[^\u0000-\u001f\u007f]*$/;

/** A trimmed single-line string of `min..max` characters (PostgreSQL text cannot hold NUL bytes). */
export const text = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(NO_CONTROL_CHARS, 'must not contain control characters')
    .min(min, min === 1 ? 'must not be empty' : `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`);

/** Emails are trimmed and lower-cased before validation, so uniqueness is case-insensitive. */
export const email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be a valid email address'));

export const slug = z
  .string()
  .trim()
  .min(2, 'must be at least 2 characters')
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lower-case letters and digits separated by single hyphens');

/**
 * Parses `input` with `schema`; on failure returns a ValidationError with one FieldError per bad field,
 * paths prefixed as the client sent them (e.g. ["input", "email"]).
 */
export function validate<T>(schema: z.ZodType<T>, input: unknown, prefix: string[] = ['input']): T | ValidationError {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const byField = new Map<string, FieldError>();
  for (const issue of result.error.issues) {
    const path = [...prefix, ...issue.path.map(String)];
    const key = path.join('.');
    if (!byField.has(key)) byField.set(key, new FieldError(path, issue.message));
  }
  return new ValidationError([...byField.values()]);
}
