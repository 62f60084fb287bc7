// The teams API as its tests call it: the GraphQL documents, and calls that check what every response
// must satisfy (nothing leaked; `ok` also: no top-level error).
import { expect } from 'vitest';
import { toGlobalId } from '../../src/ids.js';
import type { GraphQLResponse, TestApp } from './app.js';
import { expectNoLeak, NO_UUID } from './fixtures.js';

export const TEAM_FIELDS = 'id slug name createdAt';

export const CREATE_TEAM = /* GraphQL */ `
  mutation ($input: CreateTeamInput!) {
    createTeam(input: $input) {
      __typename
      ... on CreateTeamSuccess { team { ${TEAM_FIELDS} } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on SlugTakenError { message slug }
    }
  }
`;

export const ADD = /* GraphQL */ `
  mutation ($input: AddTeamMemberInput!) {
    addTeamMember(input: $input) {
      __typename
      ... on AddTeamMemberSuccess { team { id slug } user { id email } role }
      ... on NotFoundError { message id }
      ... on MembershipError { message }
    }
  }
`;

export const REMOVE = /* GraphQL */ `
  mutation ($input: RemoveTeamMemberInput!) {
    removeTeamMember(input: $input) {
      __typename
      ... on RemoveTeamMemberSuccess { team { id slug } user { id email } }
      ... on NotFoundError { message id }
      ... on MembershipError { message }
    }
  }
`;

export const TRANSFER = /* GraphQL */ `
  mutation ($input: TransferUserInput!) {
    transferUser(input: $input) {
      __typename
      ... on TransferUserSuccess { user { id email } fromTeam { id slug } toTeam { id slug } }
      ... on NotFoundError { message id }
      ... on MembershipError { message }
    }
  }
`;

export const DELETE_USER = /* GraphQL */ `
  mutation ($id: ID!) {
    deleteUser(input: { id: $id }) {
      __typename
      ... on DeleteUserSuccess { deletedUserId }
      ... on NotFoundError { id }
    }
  }
`;

export const TEAMS_PAGE = /* GraphQL */ `
  query ($first: Int, $after: String, $last: Int, $before: String) {
    teams(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { cursor node { id slug } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;

export const MEMBERS_PAGE = /* GraphQL */ `
  query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    team(id: $id) {
      id
      members(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edges { cursor role joinedAt node { id email } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
`;

export const USER_TEAMS_PAGE = /* GraphQL */ `
  query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    user(id: $id) {
      id
      teams(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edges { cursor role joinedAt node { id slug } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
`;

/** Calls on one test app, each response checked by expectNoLeak. */
export function teamCalls(t: Pick<TestApp, 'gql'>) {
  async function gql(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse> {
    const res = await t.gql(query, variables);
    expectNoLeak(res);
    return res;
  }

  /** A response with data and no top-level errors at all. */
  async function ok(query: string, variables?: Record<string, unknown>): Promise<Record<string, any>> {
    const res = await gql(query, variables);
    expect(res.errors).toBeUndefined();
    expect(res.data).toBeDefined();
    return res.data!;
  }

  /** A response whose only errors are BAD_USER_INPUT (the one top-level error a client may cause). */
  async function badUserInput(query: string, variables?: Record<string, unknown>): Promise<void> {
    const res = await gql(query, variables);
    expect(res.errors?.length).toBeGreaterThan(0);
    for (const e of res.errors!) {
      expect(e.extensions?.code).toBe('BAD_USER_INPUT');
      expect(e.message).not.toMatch(/unexpected error/i);
    }
  }

  return {
    gql,
    ok,
    badUserInput,
    createTeam: async (input: Record<string, unknown>) => (await ok(CREATE_TEAM, { input })).createTeam,
    add: async (input: Record<string, unknown>) => (await ok(ADD, { input })).addTeamMember,
    remove: async (input: Record<string, unknown>) => (await ok(REMOVE, { input })).removeTeamMember,
    transfer: async (input: Record<string, unknown>) => (await ok(TRANSFER, { input })).transferUser,
  };
}

export const kinds = (results: { __typename: string }[]) => results.map((r) => r.__typename);
export const countOf = (list: string[], kind: string) => list.filter((k) => k === kind).length;

/** The five kinds of bad ID, for a given entity type. */
export function badIds(type: 'User' | 'Team'): [string, string][] {
  const other = type === 'User' ? 'Team' : 'User';
  return [
    ['garbage', 'garbage!!'],
    ['empty', ''],
    [`wrong-type (${other})`, toGlobalId(other, NO_UUID)],
    ['non-UUID', Buffer.from(`${type}:42`).toString('base64')],
    ['unknown', toGlobalId(type, NO_UUID)],
  ];
}
