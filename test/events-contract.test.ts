import { readdirSync, readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { renderAsyncApi } from '../scripts/asyncapi.js';
import { eventMessageSchema, MESSAGE_SCHEMAS } from '../src/events/contract.js';
import { column, EVENT_TYPES, EVENTS, type EventMessage, recordEvent } from '../src/events/index.js';
import { committedAsyncApi, publishedValidators } from './helpers/event-contract.js';

/**
 * The event contract (src/events/contract.ts) and the AsyncAPI document printed from it. That what the
 * relay really publishes matches it is checked on RabbitMQ in events.test.ts ("publishes every event
 * exactly once").
 */

const ID = '3f6c1c7e-5a8b-4c2d-9e0f-1a2b3c4d5e6f';
const ID2 = '7d9e2f40-1b3c-4d5e-8f60-718293a4b5c6';
const AT = '2026-11-29T21:00:00.123Z';

const sample: EventMessage = {
  id: ID,
  type: 'user.created',
  schemaVersion: 1,
  aggregateId: ID2,
  seq: '42',
  occurredAt: AT,
  payload: { id: ID2, email: 'a@example.com', name: 'A', role: 'USER', version: 1, createdAt: AT, updatedAt: AT },
};

describe('asyncapi.yaml', () => {
  it('matches the contract (run `npm run events:print` after changing src/events/contract.ts)', () => {
    expect(committedAsyncApi().text).toBe(renderAsyncApi());
  });

  it('is a valid AsyncAPI 3 document for @asyncapi/parser, with no error or warning', async () => {
    const { document, diagnostics } = await new Parser().parse(committedAsyncApi().text);
    // Severity 0 is an error, 1 a warning; 2 and 3 are hints (such as "3.1.0 exists").
    expect(diagnostics.filter((d) => d.severity < 2).map((d) => `${d.code} ${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.version()).toMatch(/^3\./);
    expect(
      document!
        .channels()
        .all()
        .map((c) => c.address()),
    ).toEqual(EVENT_TYPES);
    for (const operation of document!.operations().all()) {
      expect(operation.action()).toBe('send');
      const [channel] = operation.channels().all();
      const [message] = operation.messages().all();
      expect(message!.name()).toBe(channel!.address());
      // References resolved: the message's payload and headers schemas are there, not dangling.
      expect(message!.payload()!.properties()!.type!.const()).toBe(channel!.address());
      expect(Object.keys(message!.headers()!.properties()!)).toEqual(['aggregateId', 'seq', 'schemaVersion', 'traceparent']);
    }
  });

  it('describes the exchange, one channel per routing key, and every type with its schemaVersion', () => {
    const { document } = committedAsyncApi();
    expect(document.components.channelBindings.exchange.amqp).toMatchObject({
      is: 'routingKey',
      exchange: { name: 'user-api.events', type: 'topic', durable: true },
    });
    expect(Object.keys(document.channels)).toEqual(EVENT_TYPES);
    expect(Object.keys(document.components.messages)).toEqual(EVENT_TYPES);
    for (const type of EVENT_TYPES) {
      const schema = document.components.schemas[type];
      expect(schema.properties.type.const).toBe(type);
      expect(schema.properties.schemaVersion.const).toBe(EVENTS[type].schemaVersion);
      expect(schema.required).toEqual(['id', 'type', 'schemaVersion', 'aggregateId', 'seq', 'occurredAt', 'payload']);
      // Every declared field is required; the payload is exactly the contract's fields.
      expect(schema.properties.payload.required).toEqual(Object.keys(EVENTS[type].payload.shape));
    }
  });
});

describe('the published JSON Schemas', () => {
  const validators = publishedValidators();

  it('accept every example of the document (headers and body)', () => {
    const { document } = committedAsyncApi();
    for (const type of EVENT_TYPES) {
      const examples = document.components.messages[type].examples as { headers: unknown; payload: unknown }[];
      expect(examples.length, type).toBeGreaterThan(0);
      for (const { headers, payload } of examples) {
        expect(validators.body[type](payload), JSON.stringify(validators.body[type].errors)).toBe(true);
        expect(validators.headers(headers)).toBe(true);
        expect(MESSAGE_SCHEMAS[type].safeParse(payload).error).toBeUndefined();
      }
    }
  });

  it('accept a well-formed message and its headers', () => {
    expect(validators.body['user.created'](sample), JSON.stringify(validators.body['user.created'].errors)).toBe(true);
    expect(validators.headers({ aggregateId: ID2, seq: '42', schemaVersion: 1 })).toBe(true);
  });

  it('refuse a missing field, a wrong type, another version, a malformed id or date', () => {
    const { email: _email, ...noEmail } = sample.payload as Record<string, unknown>;
    const refused = [
      { ...sample, payload: noEmail },
      { ...sample, payload: { ...sample.payload, version: '1' } },
      { ...sample, payload: { ...sample.payload, role: 'ROOT' } },
      { ...sample, schemaVersion: 2 },
      { ...sample, type: 'user.updated' },
      { ...sample, aggregateId: 'not-a-uuid' },
      { ...sample, occurredAt: 'yesterday' },
      { ...sample, seq: '-1' },
    ];
    for (const message of refused) expect(validators.body['user.created'](message), JSON.stringify(message)).toBe(false);
    expect(validators.headers({ aggregateId: ID2, seq: '42' })).toBe(false);
  });

  it('let consumers accept fields added later (open objects); the producer-side zod schema does not', () => {
    const withExtra = { ...sample, payload: { ...sample.payload, teamCount: 3 } };
    expect(validators.body['user.created'](withExtra)).toBe(true);
    // What would leak if a whole row were passed through: the strict schema the tests parse with refuses it.
    expect(MESSAGE_SCHEMAS['user.created'].safeParse(withExtra).success).toBe(false);
    expect(MESSAGE_SCHEMAS['user.created'].safeParse(sample).success).toBe(true);
  });
});

describe('the contract in TypeScript', () => {
  it('is a union discriminated by type: a body is checked against the payload of its own type', () => {
    expect(eventMessageSchema.parse(sample)).toEqual(sample);
    // user.created's payload under another type's name is refused.
    expect(eventMessageSchema.safeParse({ ...sample, type: 'user.updated' }).success).toBe(false);
    expect(eventMessageSchema.safeParse({ ...sample, type: 'user.exploded' }).success).toBe(false);
    expect(Object.keys(EVENTS)).toEqual(EVENT_TYPES);
  });
});

describe('recordEvent', () => {
  it('is the only writer of events in src/ (no other INSERT INTO "OutboxEvent"), and src/ uses src/events/ through its facade only', () => {
    const src = new URL('../src/', import.meta.url);
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.startsWith('generated'));
    const writers = files.filter((f) => /INSERT INTO "OutboxEvent"|outboxEvent\.(create|upsert)/.test(readFileSync(new URL(f, src), 'utf8')));
    expect(writers).toEqual(['events/record.ts']);
    // And the rest of src/ reaches src/events/ only through its facade, index.ts.
    const inside = files.filter((f) => !f.startsWith('events/') && /from '\.{1,2}\/(\.\.\/)*events\/(?!index\.js')/.test(readFileSync(new URL(f, src), 'utf8')));
    expect(inside).toEqual([]);
  });

  it('builds the payload from exactly the contract’s fields, in its order, and writes the schemaVersion', () => {
    const sql = recordEvent('team.member_removed', {
      from: 'removed',
      aggregateId: column('teamId'),
      payload: { role: column('role'), userId: column('userId'), teamId: column('teamId') },
    });
    const text = sql.sql.replace(/\s+/g, ' ');
    expect(text).toContain(`jsonb_build_object('teamId', "teamId", 'userId', "userId", 'role', "role")`);
    expect(text).toContain('INSERT INTO "OutboxEvent" ("type", "schemaVersion", "aggregateId", "payload", "traceparent")');
    // No active span here (tracing is off in this file): the row's traceparent is NULL.
    expect(sql.values).toEqual(['team.member_removed', EVENTS['team.member_removed'].schemaVersion, null]);
  });

  it('refuses a payload without one of the declared fields (a type error too)', () => {
    const from = 'removed';
    const aggregateId = column('teamId');
    expect(() =>
      recordEvent('team.member_removed', {
        from,
        aggregateId,
        // @ts-expect-error -- `role` is declared by the contract and missing here
        payload: { teamId: column('teamId'), userId: column('userId') },
      }),
    ).toThrow('no column for payload field role');
    // An undeclared field is a type error (excess property) and never reaches the SQL.
    const sql = recordEvent('team.member_removed', {
      from,
      aggregateId,
      // @ts-expect-error -- `teamCount` is not part of team.member_removed
      payload: { teamId: column('teamId'), userId: column('userId'), role: column('role'), teamCount: column('teamCount') },
    });
    expect(sql.sql).not.toContain('teamCount');
  });
});
