/**
 * The error vocabulary of the API: codes (codes.ts), GraphQL errors and the result rewriter
 * (graphql.ts), refusal responses (response.ts), and the classifier masking and metrics share
 * (classify.ts, over database.ts). Depends on nothing else in src/. StartupError (startup.ts), the
 * operator's kind of error, is imported from its file.
 */
export * from './codes.js';
export * from './graphql.js';
export * from './response.js';
export * from './classify.js';
export * from './problem.js';
