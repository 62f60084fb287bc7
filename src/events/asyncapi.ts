import { EVENT_TYPES, EVENTS, type EventPayload, type EventType, MESSAGE_SCHEMAS, messageHeadersSchema, toPublishedJsonSchema } from './contract.js';

/*
 * The AsyncAPI 3 document of what the relay publishes, built from the contract. `npm run events:print`
 * writes it to asyncapi.yaml, and a test fails when that file is stale (like schema.graphql).
 * Layout: one channel per routing key (= event type) on the topic exchange, one `send` operation per
 * channel, the messages (AMQP headers + JSON body) and their JSON Schemas under `components`.
 */

const AMQP_BINDING_VERSION = '0.3.0';

export interface AsyncApiOptions {
  /** The exchange name (AMQP_EXCHANGE's default; a deployment may set another). */
  exchange: string;
  /** The document's version: the service's. */
  version: string;
}

const ref = ($ref: string) => ({ $ref });

// One example per type, for the document's readers; typed by the contract, and the tests check every
// example against the document's own schemas.
const USER = '0b9f4c1e-2d3a-4e5f-8a6b-7c8d9e0f1a2b';
const TEAM = '5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9';
const OTHER_TEAM = '8c9d0e1f-2a3b-4c5d-9e6f-7a8b9c0d1e2f';
const AT = '2026-11-29T09:30:00.000Z';
const EXAMPLES: { [T in EventType]: EventPayload<T> } = {
  'user.created': { id: USER, email: 'ada@example.com', name: 'Ada', role: 'USER', version: 1, createdAt: AT, updatedAt: AT },
  'user.updated': { id: USER, changes: { name: 'Ada Lovelace' }, version: 2, updatedAt: AT },
  'user.deleted': { id: USER, teamIds: [TEAM] },
  'user.transferred': { userId: USER, fromTeamId: TEAM, toTeamId: OTHER_TEAM, role: 'MEMBER', joinedAt: AT },
  'team.created': { id: TEAM, slug: 'platform', name: 'Platform', createdAt: AT },
  'team.member_added': { userId: USER, teamId: TEAM, role: 'MEMBER', joinedAt: AT },
  'team.member_removed': { teamId: TEAM, userId: USER, role: 'MEMBER' },
};

function example(type: EventType, seq: number) {
  const { aggregate, schemaVersion } = EVENTS[type];
  const aggregateId = aggregate === 'User' ? USER : TEAM;
  return {
    name: `${type}.v${schemaVersion}`,
    headers: { aggregateId, seq: String(seq), schemaVersion },
    payload: {
      id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
      type,
      schemaVersion,
      aggregateId,
      seq: String(seq),
      occurredAt: AT,
      payload: EXAMPLES[type],
    },
  };
}

export function asyncApiDocument({ exchange, version }: AsyncApiOptions) {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = { headers: toPublishedJsonSchema(messageHeadersSchema) };
  for (const [index, type] of EVENT_TYPES.entries()) {
    const { aggregate, schemaVersion, summary } = EVENTS[type];
    channels[type] = {
      address: type,
      title: type,
      description: `Routing key \`${type}\` on the \`${exchange}\` topic exchange.`,
      messages: { [type]: ref(`#/components/messages/${type}`) },
      bindings: ref('#/components/channelBindings/exchange'),
    };
    operations[operationId(type)] = {
      action: 'send',
      title: `Publish ${type}`,
      summary,
      description: `Published by the outbox relay after the change committed; persistent, with publisher confirms; at least once (de-duplicate by messageId), in \`seq\` order per ${aggregate.toLowerCase()}.`,
      channel: ref(`#/channels/${type}`),
      messages: [ref(`#/channels/${type}/messages/${type}`)],
      bindings: ref('#/components/operationBindings/persistent'),
    };
    messages[type] = {
      name: type,
      title: type,
      summary,
      description: `schemaVersion ${schemaVersion}. The AMQP properties carry messageId (= id), type (= type), timestamp (= occurredAt, in seconds), appId user-api-gateway and contentType application/json.`,
      contentType: 'application/json',
      headers: ref('#/components/schemas/headers'),
      payload: ref(`#/components/schemas/${type}`),
      bindings: { amqp: { messageType: type, bindingVersion: AMQP_BINDING_VERSION } },
      examples: [example(type, 101 + index)],
    };
    schemas[type] = toPublishedJsonSchema(MESSAGE_SCHEMAS[type]);
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'user-api-gateway events',
      version,
      description: [
        'Events of the user API gateway: every successful mutation writes one event to the transactional outbox in the same statement as the change, and the relay publishes it to RabbitMQ.',
        `Exchange: \`${exchange}\` (durable, topic; AMQP_EXCHANGE may name another). Routing key = event type; bind \`user.#\` or \`team.#\` for one aggregate's events, \`#\` for all.`,
        'Each event type has a `schemaVersion` (body and header). A change a consumer could trip over bumps it; added fields do not, so consumers must ignore fields they do not know. README: "Events".',
      ].join('\n\n'),
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: {
      messages,
      schemas,
      channelBindings: {
        exchange: {
          amqp: {
            is: 'routingKey',
            exchange: { name: exchange, type: 'topic', durable: true, autoDelete: false, vhost: '/' },
            bindingVersion: AMQP_BINDING_VERSION,
          },
        },
      },
      // Persistent (deliveryMode 2), with the AMQP timestamp property set.
      operationBindings: { persistent: { amqp: { deliveryMode: 2, timestamp: true, bindingVersion: AMQP_BINDING_VERSION } } },
    },
  };
}

/** `user.created` -> `publishUserCreated`. */
function operationId(type: EventType): string {
  return `publish${type
    .split(/[._]/)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('')}`;
}
