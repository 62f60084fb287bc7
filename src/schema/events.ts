import { ErrorCode, codedError } from '../errors/index.js';
import { type LiveEvent, SubscriptionLimitError } from '../events/index.js';
import { MAX_LENGTH, MAX_LIST_ITEMS } from '../resolvers/validation.js';
import { builder } from './builder.js';

export const EventRef = builder.objectRef<LiveEvent>('Event').implement({
  description: 'Something that happened to a user or a team, as written to the outbox with the change.',
  fields: (t) => ({
    id: t.exposeID('id', {
      description: 'Unique id of the event; the AMQP messageId too, so consumers can de-duplicate.',
    }),
    type: t.exposeString('type', {
      description: 'What happened: user.created, user.updated, user.deleted, user.transferred, team.created, team.member_added or team.member_removed.',
    }),
    schemaVersion: t.exposeInt('schemaVersion', {
      description: 'Version of the payload contract of this type (asyncapi.yaml); raised only by changes a consumer could trip over.',
    }),
    aggregateId: t.exposeString('aggregateId', {
      description: 'Database UUID of the user or team the event is about; events of one aggregate are published in order.',
    }),
    seq: t.exposeString('seq', { description: 'Global write order (a 64-bit integer as a string).' }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime', description: 'When the change happened (the start of its database transaction).' }),
    payload: t.string({
      description: 'The event data as JSON text (database ids, ISO dates); its shape depends on `type` and `schemaVersion` (asyncapi.yaml).',
      resolve: (event) => JSON.stringify(event.payload ?? null),
    }),
  }),
});

builder.subscriptionType({
  description: 'Live updates over Server-Sent Events (send `accept: text/event-stream`).',
  authScopes: { authenticated: true },
});

builder.subscriptionFields((t) => ({
  events: t.field({
    type: EventRef,
    authScopes: { admin: true },
    description:
      'Events as they are published (as they are written when no broker is configured), from the moment of subscribing. ADMIN only. A live view: a client that falls far behind loses the oldest. The stream ends when the token it was opened with expires.',
    args: {
      types: t.arg.stringList({
        required: false,
        description: `Only events of these types, e.g. ["user.created"]; every type when omitted or empty. At most ${MAX_LIST_ITEMS} types, each at most ${MAX_LENGTH.eventType} characters.`,
        extensions: { maxLength: MAX_LENGTH.eventType },
      }),
    },
    // The stream ends when the subscriber's token expires: a token's rights are bounded by its lifetime.
    subscribe: (_root, args, ctx) => {
      try {
        return ctx.events.subscribe(args.types, ctx.viewer?.expiresAt, ctx.viewer?.userId);
      } catch (error) {
        if (!(error instanceof SubscriptionLimitError)) throw error;
        throw codedError(
          ErrorCode.RATE_LIMITED,
          error.scope === 'subscriber'
            ? `Too many live subscriptions for this token's subject (at most ${error.limit}); close one first.`
            : 'Too many live subscriptions on this server; retry later.',
        );
      }
    },
    resolve: (event) => event,
  }),
}));
