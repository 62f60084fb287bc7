import { EVENT_TYPES, EVENTS, type EventType, MESSAGE_SCHEMAS, messageHeadersSchema, toPublishedJsonSchema } from './contract.js';

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

export function asyncApiDocument({ exchange, version }: AsyncApiOptions) {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = { headers: toPublishedJsonSchema(messageHeadersSchema) };
  for (const type of EVENT_TYPES) {
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
