import { z } from 'zod';
import type { Role, TeamRole } from '../generated/prisma/enums.js';

/*
 * The event contract: what RabbitMQ consumers (and the `events` subscription) receive. Every payload is
 * declared here field by field; the SQL that writes an event names exactly these fields (record.ts
 * makes that a type error otherwise), so a migration of the User, Team or Membership tables cannot
 * add a field to a payload by itself (what it does to a named column's values the relay test catches:
 * it validates what is really published). asyncapi.yaml is printed from these schemas (`npm run events:print`).
 *
 * Versioning: each event type has its own `schemaVersion`, written into the outbox row with the event
 * (an event keeps the version it was written with, even if it is relayed after a deploy). A change a
 * consumer could trip over (a field removed, renamed, retyped, made optional or changed in meaning)
 * bumps it; adding a field does not (consumers ignore fields they do not know). README: "Events".
 */

const uuid = z.uuid().describe('Database UUID.');
const timestamp = z.iso.datetime().describe('ISO 8601, UTC, milliseconds.');
const role = z.enum(['USER', 'ADMIN']).describe('The user’s global role.');
const teamRole = z.enum(['MEMBER', 'OWNER']).describe('The role in the team.');

// A migration that adds or renames an enum value fails the typecheck here, until the contract decides
// what consumers see (a new value can break a consumer's exhaustive switch: a schemaVersion question).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// Both sides are `true` when the enums match; the rule sees one type twice, which is the point.
// eslint-disable-next-line @typescript-eslint/no-duplicate-type-constituents
const sameRoles: Same<z.output<typeof role>, Role> & Same<z.output<typeof teamRole>, TeamRole> = true;
void sameRoles;

/** What one event type is: its aggregate, the version of its payload and the payload's fields. */
interface EventDefinition {
  /** The entity `aggregateId` names; events of one aggregate are published in write order. */
  readonly aggregate: 'User' | 'Team';
  readonly schemaVersion: number;
  readonly summary: string;
  readonly payload: z.ZodObject;
}

const define = <const T extends EventDefinition>(definition: T) => definition;

export const EVENTS = {
  'user.created': define({
    aggregate: 'User',
    schemaVersion: 1,
    summary: 'A user was created.',
    payload: z.strictObject({
      id: uuid,
      email: z.string().describe('Stored as given (compared case-insensitively).'),
      name: z.string(),
      role,
      version: z.int().min(1).describe('Optimistic-concurrency version; 1 for a new user.'),
      createdAt: timestamp,
      updatedAt: timestamp,
    }),
  }),
  'user.updated': define({
    aggregate: 'User',
    schemaVersion: 1,
    summary: 'Fields of a user changed (an update that changes nothing is still an event, with empty `changes`).',
    payload: z.strictObject({
      id: uuid,
      changes: z.strictObject({ email: z.string().optional(), name: z.string().optional(), role: role.optional() }).describe('The fields the update set, with their new values.'),
      version: z.int().min(2).describe('The version after the update.'),
      updatedAt: timestamp,
    }),
  }),
  'user.deleted': define({
    aggregate: 'User',
    schemaVersion: 1,
    summary: 'A user was deleted, with their memberships (no team.member_removed events are written for those).',
    payload: z.strictObject({
      id: uuid,
      teamIds: z.array(uuid).describe('The teams the user was a member of (sorted): their memberships went with the user.'),
    }),
  }),
  'user.transferred': define({
    aggregate: 'User',
    schemaVersion: 1,
    summary: 'A user moved from one team to another, keeping their role.',
    payload: z.strictObject({ userId: uuid, fromTeamId: uuid, toTeamId: uuid, role: teamRole, joinedAt: timestamp }),
  }),
  'team.created': define({
    aggregate: 'Team',
    schemaVersion: 1,
    summary: 'A team was created.',
    payload: z.strictObject({ id: uuid, slug: z.string(), name: z.string(), createdAt: timestamp }),
  }),
  'team.member_added': define({
    aggregate: 'Team',
    schemaVersion: 1,
    summary: 'A user joined a team.',
    payload: z.strictObject({ userId: uuid, teamId: uuid, role: teamRole, joinedAt: timestamp }),
  }),
  'team.member_removed': define({
    aggregate: 'Team',
    schemaVersion: 1,
    summary: 'A user left a team.',
    payload: z.strictObject({ teamId: uuid, userId: uuid, role: teamRole.describe('The role the user had.') }),
  }),
} as const;

export type EventType = keyof typeof EVENTS;
/** Every event type, in the order of the contract; each is also the message's routing key. */
export const EVENT_TYPES = Object.keys(EVENTS) as EventType[];
export type EventPayload<T extends EventType> = z.output<(typeof EVENTS)[T]['payload']>;

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENTS, value);
}

/** The envelope of one event type: what a message body is. */
function envelopeOf<T extends EventType>(type: T) {
  const { schemaVersion, payload, summary } = EVENTS[type];
  return z
    .strictObject({
      id: uuid.describe('The event’s id; also the AMQP messageId, so consumers can de-duplicate.'),
      type: z.literal(type).describe('The event type; also the routing key and the AMQP `type` property.'),
      schemaVersion: z.literal(schemaVersion).describe('Version of this event type’s payload.'),
      aggregateId: uuid.describe(`Database UUID of the ${EVENTS[type].aggregate.toLowerCase()} the event is about.`),
      seq: z
        .string()
        .regex(/^[1-9][0-9]*$/)
        .describe('Global write order, a 64-bit integer as a decimal string.'),
      occurredAt: timestamp.describe('When the change was written (the start of its transaction), ISO 8601 UTC.'),
      payload,
    })
    .describe(summary);
}

type Envelopes = { [T in EventType]: ReturnType<typeof envelopeOf<T>> };
/** Per event type, the zod schema of the whole message body (envelope and payload). */
export const MESSAGE_SCHEMAS = Object.fromEntries(EVENT_TYPES.map((t) => [t, envelopeOf(t)])) as Envelopes;

/** Any message body: a union discriminated by `type`. */
export const eventMessageSchema = z.discriminatedUnion('type', EVENT_TYPES.map((t) => MESSAGE_SCHEMAS[t]) as unknown as [Envelopes[EventType], ...Envelopes[EventType][]]);
/** The JSON body of a published event (consumers see id, type and headers as message properties too). */
export type EventMessage = { [T in EventType]: z.output<Envelopes[T]> }[EventType];

/** AMQP headers of every message (besides the standard properties messageId, type, timestamp, ...). */
export const messageHeadersSchema = z
  .object({
    aggregateId: uuid.describe('As in the body: route or shard by it without parsing the body.'),
    seq: z
      .string()
      .regex(/^[1-9][0-9]*$/)
      .describe('As in the body.'),
    schemaVersion: z.int().min(1).describe('As in the body: pick a decoder without parsing the body.'),
    traceparent: z
      .string()
      .regex(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
      .optional()
      .describe('W3C Trace Context of the write that produced the event (absent when tracing was off): continue its trace.'),
  })
  .describe('AMQP message headers.');

/**
 * A zod schema as published JSON Schema (draft-07, the AsyncAPI schema format's base). Objects are
 * left open (no `additionalProperties: false`): a consumer must accept fields added later within the
 * same schemaVersion. The producer's own tests parse with the strict zod schemas instead.
 */
export function toPublishedJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _draft, ...json } = z.toJSONSchema(schema, {
    target: 'draft-07',
    override: ({ jsonSchema }) => {
      if (jsonSchema.additionalProperties === false) delete jsonSchema.additionalProperties;
      // `format` (uuid, date-time) says it; zod's equivalent regular expression only adds noise.
      if (jsonSchema.format) delete jsonSchema.pattern;
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
      if (Number.isInteger(jsonSchema.const)) jsonSchema.type = 'integer';
    },
  });
  return json;
}
