/**
 * The GraphQL operations behind the REST API: fixed documents run through Yoga's own execution (the
 * same schema, context, validation, authorization, limits and events). REST adds only the mapping of
 * paths, query strings, bodies and headers to variables, and of results to statuses.
 * Why not SOFA (sofa-api): 0.18.10 declares graphql ^15 || ^16 (this server runs 17), and its routes
 * (one per root field, input as a JSON field) and statuses (200 for a typed error) are not this API's.
 */

const USER_FIELDS = 'id email name role version createdAt updatedAt';

export const DOCUMENTS = {
  listUsers: `query RestListUsers($first: Int, $after: String, $last: Int, $before: String, $filter: UserFilter, $orderBy: UserOrder) {
  users(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    edges { node { ${USER_FIELDS} } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}`,
  getUser: `query RestGetUser($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`,
  createUser: `mutation RestCreateUser($input: CreateUserInput!) {
  createUser(input: $input) {
    __typename
    ... on CreateUserSuccess { user { ${USER_FIELDS} } }
    ... on Error { message }
    ... on ValidationError { fieldErrors { path message } }
    ... on EmailTakenError { email }
  }
}`,
  updateUser: `mutation RestUpdateUser($input: UpdateUserInput!) {
  updateUser(input: $input) {
    __typename
    ... on UpdateUserSuccess { user { ${USER_FIELDS} } }
    ... on Error { message }
    ... on ValidationError { fieldErrors { path message } }
    ... on EmailTakenError { email }
    ... on NotFoundError { id }
    ... on VersionConflictError { currentVersion }
  }
}`,
  deleteUser: `mutation RestDeleteUser($input: DeleteUserInput!) {
  deleteUser(input: $input) {
    __typename
    ... on DeleteUserSuccess { deletedUserId }
    ... on Error { message }
    ... on NotFoundError { id }
  }
}`,
} as const;

export type OperationName = keyof typeof DOCUMENTS;

/** The REST representation of a user: the GraphQL `User` fields above. */
export interface RestUser {
  id: string;
  email: string;
  name: string;
  role: 'USER' | 'ADMIN';
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** A user's strong entity tag: its version (the `If-Match` of PUT carries it back). */
export const etagOf = (user: { version: number }) => `"${user.version}"`;
