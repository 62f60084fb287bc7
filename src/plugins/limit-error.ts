import type { GraphQLError } from 'graphql';
import { validationFailedError } from '../errors/index.js';

/** The error every operation limit answers with: a validation failure, 400 whatever the Accept header. */
export function limitError(message: string): GraphQLError {
  return validationFailedError(message);
}
