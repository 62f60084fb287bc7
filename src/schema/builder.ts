import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { isProduction } from '../config.js';
import type { Context } from '../context.js';
import { forbiddenError, unauthenticatedError } from '../errors/index.js';
import type PrismaTypes from '../generated/pothos-types.js';
import { MAX_LENGTH } from '../resolvers/validation.js';
import { getDatamodel } from '../generated/pothos-types.js';

/** The schema builder: plugins and scalars only; types live in one file per domain beside it. */
export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string };
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
  AuthScopes: {
    /** Any verified caller. */
    authenticated: boolean;
    admin: boolean;
    /** The caller is an OWNER of the team with this database id. */
    teamOwner: string;
  };
}>({
  defaultFieldNullability: false,
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin],
  scopeAuth: {
    // Subscriptions are authorized once, when they start (a refused caller never gets a stream),
    // not on every event.
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      authenticated: ctx.viewer !== null,
      admin: ctx.viewer?.role === 'ADMIN',
      teamOwner: (teamId) => (ctx.viewer ? ctx.loaders.viewerOwnsTeam.load(teamId) : false),
    }),
    // Refusals are top-level errors with a stable code; the resolver (and so any write) never runs.
    unauthorizedError: (_parent, ctx) => (ctx.viewer ? forbiddenError('Not allowed.') : unauthenticatedError('Authentication required.')),
  },
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    // A resolver that forgets to pass Pothos' `query` into its Prisma call silently loses the
    // relation planning (an N+1); fail loudly outside production.
    onUnusedQuery: isProduction() ? null : 'error',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    idFieldOptions: { description: 'Global, opaque ID.' },
    nodeTypeOptions: { description: 'Relay object identification: every entity has a global, opaque ID.' },
    pageInfoTypeOptions: { description: 'Where a page sits in its connection, for Relay cursor pagination.' },
    // Descriptions are part of the contract (they show in GraphiQL), generated fields included.
    cursorFieldOptions: { description: 'Opaque cursor of this edge, for after/before.' },
    nodeFieldOptions: { description: 'The item at the end of this edge.' },
    edgesFieldOptions: { description: 'The items of this page, each with its cursor.' },
    pageInfoFieldOptions: { description: 'Cursors and whether more pages exist.' },
    hasNextPageFieldOptions: { description: 'Whether items follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Whether items precede this page.' },
    startCursorFieldOptions: { description: 'Cursor of the first edge, or null for an empty page.' },
    endCursorFieldOptions: { description: 'Cursor of the last edge, or null for an empty page.' },
    firstArgOptions: { description: 'Page forwards: at most this many items (capped at 100; default 20).' },
    afterArgOptions: {
      description: `Page forwards from this cursor (at most ${MAX_LENGTH.cursor} characters).`,
      extensions: { maxLength: MAX_LENGTH.cursor },
    },
    lastArgOptions: { description: 'Page backwards: at most this many items (capped at 100).' },
    beforeArgOptions: {
      description: `Page backwards from this cursor (at most ${MAX_LENGTH.cursor} characters).`,
      extensions: { maxLength: MAX_LENGTH.cursor },
    },
  },
});

builder.scalarType('DateTime', {
  description: 'RFC 3339 string, UTC, millisecond precision.',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) throw new TypeError('DateTime must be an RFC 3339 string');
    return date;
  },
});

// Every field needs a verified caller; mutations add their own rules (see the contract's end).
builder.queryType({ description: 'Reads: users, teams and Relay node lookups.', authScopes: { authenticated: true } });
builder.mutationType({
  description: 'Writes. Expected failures come back as typed errors in the result union.',
  authScopes: { authenticated: true },
});
