import { z } from 'zod';
import { NOT_PLAIN_TEXT } from '../text.js';
import { FieldError, ValidationError } from './errors.js';

/**
 * The longest value of each kind of string the API accepts (UTF-16 code units, as JavaScript and
 * zod count). The schema documents each one beside its argument; the mutations that can answer
 * ValidationError check theirs here, every other argument is checked before execution
 * (src/plugins/argument-bounds.ts).
 */
export const MAX_LENGTH = {
  /** User and team display names. */
  name: 100,
  email: 254,
  slug: 64,
  /** Global IDs are 56 characters; room to spare, never a megabyte. */
  id: 100,
  /** Relay cursors (the longest, of a membership, is about 120). */
  cursor: 200,
  /** As long as the longest value it can match, an email. */
  search: 254,
  /** Event types such as "team.member_removed". */
  eventType: 64,
} as const;

/** Most items in a list argument (`nodes(ids:)`, `events(types:)`). */
export const MAX_LIST_ITEMS = 100;

const tooLong = (max: number) => `must be at most ${max} characters`;

/** A trimmed single-line string of `min..max` characters, with no character of `NOT_PLAIN_TEXT`. */
export const text = (min: number, max: number) =>
  z
    .string()
    .trim()
    // An over-long value stops here, before the character scan (names can arrive at a megabyte).
    .max(max, { error: tooLong(max), abort: true })
    .min(min, min === 1 ? 'must not be empty' : `must be at least ${min} characters`)
    .refine((value) => !NOT_PLAIN_TEXT.test(value), 'must not contain control characters, line separators or unpaired surrogates');

/** Emails are trimmed and lower-cased before validation, so uniqueness is case-insensitive. */
export const email = z
  .string()
  .trim()
  .toLowerCase()
  .max(MAX_LENGTH.email, { error: tooLong(MAX_LENGTH.email), abort: true })
  .pipe(z.email('must be a valid email address'));

/** A global ID no longer than any global ID can be; whether it names anything is the caller's check. */
export const globalId = z.string().max(MAX_LENGTH.id, tooLong(MAX_LENGTH.id));

export const slug = z
  .string()
  .trim()
  .max(MAX_LENGTH.slug, { error: tooLong(MAX_LENGTH.slug), abort: true })
  .min(2, 'must be at least 2 characters')
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
