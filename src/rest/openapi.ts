import { ERROR_CODES, RESULT_ERROR_STATUS } from '../errors/index.js';
import { MAX_LENGTH } from '../resolvers/validation.js';
import { USERS_PATH } from './handler.js';

/**
 * The OpenAPI 3.1 document of the REST API, built from the same constants the handler uses (paths,
 * bounds, codes and statuses). `npm run openapi:print` writes it to openapi.json, which a test keeps
 * equal to this; the server answers it at /api/v1/openapi.json.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problemRef = { $ref: '#/components/responses/Problem' };
const problems = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [String(s), problemRef]));
const json = (schema: unknown) => ({ 'application/json': { schema } });
const etagHeader = { ETag: { description: 'The user\'s version as a strong entity tag, e.g. `"3"`; send it back as `If-Match`.', schema: { type: 'string' } } };
// Statuses every operation may answer: no token, rate limit, request limits, timeouts, unavailability.
const COMMON = [401, 406, 429, 500, 503, 504];
const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: `The user's global ID (as GraphQL's \`User.id\`), percent-encoded; at most ${MAX_LENGTH.id} characters.`,
  schema: { type: 'string', maxLength: MAX_LENGTH.id },
};
const query = (name: string, description: string, schema: Record<string, unknown>) => ({ name, in: 'query', required: false, description, schema });
const ROLE = { type: 'string', enum: ['USER', 'ADMIN'] };

export function buildOpenApi(): Record<string, unknown> {
  const codes = [...Object.keys(ERROR_CODES), ...Object.keys(RESULT_ERROR_STATUS)];
  return {
    openapi: '3.1.0',
    info: {
      title: 'User API gateway: REST',
      version: '1.0.0',
      description:
        "The GraphQL API's user operations over REST. Each route runs a fixed GraphQL operation through the same server: the same validation, authorization, limits and events. Errors are RFC 9457 problem details whose `code` is the GraphQL `extensions.code`, or the `__typename` of the typed error of a mutation result.",
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths: {
      [USERS_PATH]: {
        get: {
          operationId: 'listUsers',
          summary: 'A page of users (GraphQL `users`)',
          parameters: [
            query('first', 'Page size from the start or after `after`; at most 100, default 20.', { type: 'integer', minimum: 0, maximum: 100 }),
            query('after', 'Cursor (`pageInfo.endCursor`) to page forward from.', { type: 'string', maxLength: MAX_LENGTH.cursor }),
            query('last', 'Page size from the end or before `before`; at most 100.', { type: 'integer', minimum: 0, maximum: 100 }),
            query('before', 'Cursor (`pageInfo.startCursor`) to page back from.', { type: 'string', maxLength: MAX_LENGTH.cursor }),
            query('search', 'Case-insensitive substring of name or email.', { type: 'string', maxLength: MAX_LENGTH.search }),
            query('role', 'Only users with this role.', ROLE),
            query('orderBy', 'Sort key; default creation time.', { type: 'string', enum: ['CREATED_AT', 'NAME', 'EMAIL'] }),
            query('direction', 'Sort direction with `orderBy`; default ASC.', { type: 'string', enum: ['ASC', 'DESC'] }),
          ],
          responses: { '200': { description: 'The page.', content: json(ref('UserPage')) }, ...problems(400, ...COMMON) },
        },
        post: {
          operationId: 'createUser',
          summary: 'Create a user (GraphQL `createUser`; ADMIN only)',
          requestBody: { required: true, content: json(ref('CreateUser')) },
          responses: {
            '201': {
              description: 'Created.',
              headers: { ...etagHeader, Location: { description: "The new user's URL.", schema: { type: 'string' } } },
              content: json(ref('User')),
            },
            ...problems(400, 403, 409, 413, 415, 422, ...COMMON),
          },
        },
      },
      [`${USERS_PATH}/{id}`]: {
        parameters: [idParameter],
        get: {
          operationId: 'getUser',
          summary: 'A user (GraphQL `user`)',
          responses: { '200': { description: 'The user.', headers: etagHeader, content: json(ref('User')) }, ...problems(400, 404, ...COMMON) },
        },
        put: {
          operationId: 'updateUser',
          summary: 'Change a user (GraphQL `updateUser`): omitted fields stay as they are',
          description: 'A USER may change their own name and email; ADMIN may change anything. With `If-Match` (the ETag), the change is made only at that version, else 412.',
          parameters: [
            {
              name: 'If-Match',
              in: 'header',
              required: false,
              description: 'The ETag last read (e.g. `"3"`) or `*`; without it the change is unconditional.',
              schema: { type: 'string' },
            },
          ],
          requestBody: { required: true, content: json(ref('UpdateUser')) },
          responses: {
            '200': { description: 'The user as it is now.', headers: etagHeader, content: json(ref('User')) },
            ...problems(400, 403, 404, 409, 412, 413, 415, 422, ...COMMON),
          },
        },
        delete: {
          operationId: 'deleteUser',
          summary: 'Delete a user and their memberships (GraphQL `deleteUser`; ADMIN only)',
          responses: { '204': { description: 'Deleted.' }, ...problems(400, 403, 404, ...COMMON) },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      responses: {
        Problem: { description: 'RFC 9457 problem details.', content: { 'application/problem+json': { schema: ref('Problem') } } },
      },
      schemas: {
        User: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'email', 'name', 'role', 'version', 'createdAt', 'updatedAt'],
          properties: {
            id: { type: 'string', description: 'Global, opaque ID (the GraphQL one).' },
            email: { type: 'string', format: 'email', description: 'Lower-cased.' },
            name: { type: 'string', minLength: 1, maxLength: MAX_LENGTH.name },
            role: ROLE,
            version: { type: 'integer', minimum: 1, description: 'Grows by 1 on every update; the ETag.' },
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
          },
        },
        UserPage: {
          type: 'object',
          additionalProperties: false,
          required: ['items', 'pageInfo', 'totalCount'],
          properties: {
            items: { type: 'array', items: ref('User'), maxItems: 100 },
            pageInfo: {
              type: 'object',
              additionalProperties: false,
              required: ['hasNextPage', 'hasPreviousPage', 'startCursor', 'endCursor'],
              properties: {
                hasNextPage: { type: 'boolean' },
                hasPreviousPage: { type: 'boolean' },
                startCursor: { type: ['string', 'null'] },
                endCursor: { type: ['string', 'null'] },
              },
            },
            totalCount: { type: 'integer', minimum: 0, description: 'Users matching the filter, across all pages.' },
          },
        },
        CreateUser: {
          type: 'object',
          additionalProperties: false,
          required: ['email', 'name'],
          properties: {
            email: { type: 'string', maxLength: MAX_LENGTH.email },
            name: { type: 'string', maxLength: MAX_LENGTH.name },
            role: { ...ROLE, description: 'Default USER.' },
          },
        },
        UpdateUser: {
          type: 'object',
          additionalProperties: false,
          properties: {
            email: { type: 'string', maxLength: MAX_LENGTH.email },
            name: { type: 'string', maxLength: MAX_LENGTH.name },
            role: { ...ROLE, description: 'ADMIN only.' },
          },
        },
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail', 'code'],
          properties: {
            type: { type: 'string', format: 'uri', description: 'A URN per code.' },
            title: { type: 'string' },
            status: { type: 'integer', minimum: 400, maximum: 599 },
            detail: { type: 'string', description: 'The GraphQL error message.' },
            code: { type: 'string', enum: codes, description: "As in GraphQL: `extensions.code`, or the typed error's `__typename`." },
            requestId: { type: 'string', description: "Finds the request in the server's log (unexpected errors)." },
            retryAfterS: { type: 'integer', description: 'RATE_LIMITED: seconds until a retry may succeed.' },
            fieldErrors: {
              type: 'array',
              description: 'ValidationError: one per bad field.',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['path', 'message'],
                properties: { path: { type: 'array', items: { type: 'string' } }, message: { type: 'string' } },
              },
            },
            email: { type: 'string', description: 'EmailTakenError: the address in use.' },
            id: { type: 'string', description: 'NotFoundError: the ID that names no user.' },
            currentVersion: { type: 'integer', description: 'VersionConflictError: the version the user is at (its ETag).' },
          },
        },
      },
    },
  };
}

/** The document as checked in (openapi.json) and served: two-space JSON and a final newline. */
export const renderOpenApi = () => `${JSON.stringify(buildOpenApi(), null, 2)}\n`;
