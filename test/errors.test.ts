// The error vocabulary's own guarantees, without a server: rewriting an error keeps where it happened.
import { GraphQLError, parse, Source } from 'graphql';
import { describe, expect, it } from 'vitest';
import { codedError, ErrorCode, errorCode, rewriteResultErrors, withExtensions } from '../src/errors/index.js';

describe('the result rewriter', () => {
  const source = new Source('query {\n  a\n  b { c }\n}');
  const field = (parse(source).definitions[0] as unknown as { selectionSet: { selections: unknown[] } }).selectionSet.selections[1];

  it('keeps locations, path and the original error', () => {
    const original = new Error('boom');
    const error = new GraphQLError('Unexpected error.', { nodes: field as never, path: ['b'], originalError: original, extensions: { code: 'X' } });
    const syntax = new GraphQLError('Syntax Error', { source, positions: [10], extensions: { code: ErrorCode.GRAPHQL_PARSE_FAILED } });
    expect(error.locations).toEqual([{ line: 3, column: 3 }]);
    const result = rewriteResultErrors({ data: null, errors: [error, syntax] }, (e) => withExtensions(e, { ...e.extensions, requestId: 'r1' }));
    const [first, second] = (result as { errors: GraphQLError[] }).errors;
    expect(first!.toJSON()).toEqual({ message: 'Unexpected error.', locations: [{ line: 3, column: 3 }], path: ['b'], extensions: { code: 'X', requestId: 'r1' } });
    expect(first!.originalError).toBe(original);
    expect(second!.toJSON()).toEqual({ message: 'Syntax Error', locations: [{ line: 2, column: 3 }], extensions: { code: 'GRAPHQL_PARSE_FAILED', requestId: 'r1' } });
  });

  it('returns undefined when nothing changed, and rewrites each result of a batch', () => {
    const error = codedError(ErrorCode.FORBIDDEN, 'Not allowed.');
    expect(rewriteResultErrors({ errors: [error] }, (e) => e)).toBeUndefined();
    expect(rewriteResultErrors({ data: { a: 1 } }, (e) => e)).toBeUndefined();
    const batch = rewriteResultErrors([{ data: {} }, { errors: [error] }], (e) => withExtensions(e, { code: ErrorCode.BAD_REQUEST }));
    expect((batch as { errors?: GraphQLError[] }[]).map((r) => r.errors?.map((e) => e.extensions.code))).toEqual([undefined, ['BAD_REQUEST']]);
  });
});

describe('the classifier', () => {
  it('keeps a GraphQLError code, names the known failures, and calls the rest internal', () => {
    expect(errorCode(codedError(ErrorCode.FORBIDDEN, 'no'))).toBe('FORBIDDEN');
    expect(errorCode(new GraphQLError('x', { originalError: Object.assign(new Error('cancel'), { code: '57014' }) }))).toBe('REQUEST_TIMEOUT');
    expect(errorCode(new Error('timeout exceeded when trying to connect'))).toBe('SERVICE_UNAVAILABLE');
    expect(errorCode(new Error('anything'))).toBe('INTERNAL_SERVER_ERROR');
  });
});
