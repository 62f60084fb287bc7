import { lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './errors.js';
import './user.js';
import './profile.js';
import './team.js';
import './membership.js';
import './node.js';
import './events.js';

/** The served schema, sorted so the printed `schema.graphql` diffs cleanly. */
export const schema: GraphQLSchema = lexicographicSortSchema(builder.toSchema());
