// Rows and checks most test files need: users and teams written straight to the database (setup, not the
// thing under test), "this wrote nothing" and "this leaked nothing" assertions.
import { expect } from 'vitest';
import type { TeamRole } from '../../src/generated/prisma/client.js';
import { toGlobalId } from '../../src/ids.js';
import type { GraphQLResponse, TestApp } from './app.js';

/** What the fixtures need of a test app: its database. */
type WithDb = Pick<TestApp, 'db'>;

let counter = 0;
/** A unique, slug-safe token per call, so tests never depend on each other's rows. */
export const unique = (tag: string) => `${tag}-${Date.now().toString(36)}-${++counter}`;

/** The UUID no row has. */
export const NO_UUID = '00000000-0000-4000-8000-000000000000';
/** A timestamp as the API prints it: ISO 8601, UTC, milliseconds. */
export const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export interface TestUser {
  id: string;
  gid: string;
  email: string;
}
export interface TestTeam {
  id: string;
  gid: string;
  slug: string;
}

export async function makeUser(t: WithDb, tag = 'user'): Promise<TestUser> {
  const row = await t.db.prisma.user.create({ data: { email: `${unique(tag)}@example.com`, name: `User ${tag}` } });
  return { id: row.id, gid: toGlobalId('User', row.id), email: row.email };
}

/** `n` users, created one after the other. */
export async function makeUsers(t: WithDb, n: number, tag = 'user'): Promise<TestUser[]> {
  const users: TestUser[] = [];
  for (let i = 0; i < n; i++) users.push(await makeUser(t, tag));
  return users;
}

/** A team with the given members. */
export async function makeTeam(t: WithDb, members: [TestUser, TeamRole][] = [], tag = 'team'): Promise<TestTeam> {
  const row = await t.db.prisma.team.create({ data: { slug: unique(tag), name: `Team ${tag}` } });
  for (const [user, role] of members) await t.db.prisma.membership.create({ data: { userId: user.id, teamId: row.id, role } });
  return { id: row.id, gid: toGlobalId('Team', row.id), slug: row.slug };
}

/** Every Team and Membership row, in a fixed order, to compare before and after a refusal. */
export async function teamRows(t: WithDb) {
  const teams = await t.db.prisma.team.findMany({ orderBy: { id: 'asc' } });
  const memberships = await t.db.prisma.membership.findMany({ orderBy: [{ teamId: 'asc' }, { userId: 'asc' }] });
  return { teams, memberships };
}

/** Runs `fn` and asserts it changed no Team or Membership row. */
export async function expectNoWrite<T>(t: WithDb, fn: () => Promise<T>): Promise<T> {
  const before = await teamRows(t);
  const result = await fn();
  expect(await teamRows(t)).toEqual(before);
  return result;
}

/** A team's Membership rows, by user id. */
export function membershipsOf(t: WithDb, team: TestTeam) {
  return t.db.prisma.membership.findMany({ where: { teamId: team.id }, orderBy: { userId: 'asc' } });
}

/** The user's role in each of `teams` (null: not a member). */
export async function rolesOf(t: WithDb, user: TestUser, teams: TestTeam[]): Promise<(TeamRole | null)[]> {
  const rows = await t.db.prisma.membership.findMany({ where: { userId: user.id, teamId: { in: teams.map((x) => x.id) } } });
  return teams.map((team) => rows.find((r) => r.teamId === team.id)?.role ?? null);
}

/** Anything that looks like SQL, the ORM, the driver or a stack trace must never reach a client. */
export const LEAK =
  /prisma|postgres|pglite|\bselect\b[\s\S]*\bfrom\b|\binsert into\b|\bdelete from\b|\bupdate "|\n\s+at\s|node_modules|\.[cm]?[jt]s:\d+|stack|constraint|violat|deadlock/i;

/** Every message a client can see, top-level or in a typed error, must be free of internals. */
export function expectNoLeak(res: GraphQLResponse): void {
  const messages: string[] = [];
  for (const e of res.errors ?? []) messages.push(JSON.stringify(e));
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        if (key === 'message' && typeof v === 'string') messages.push(v);
        else walk(v);
      }
    }
  };
  walk(res.data);
  for (const m of messages) expect(m).not.toMatch(LEAK);
}

/** The fixtures bound to one test app (`const { makeUser, expectNoWrite } = fixtures(t)`). */
export function fixtures(t: WithDb) {
  return {
    makeUser: (tag?: string) => makeUser(t, tag),
    makeUsers: (n: number, tag?: string) => makeUsers(t, n, tag),
    makeTeam: (members?: [TestUser, TeamRole][], tag?: string) => makeTeam(t, members, tag),
    teamRows: () => teamRows(t),
    expectNoWrite: <T>(fn: () => Promise<T>) => expectNoWrite(t, fn),
    membershipsOf: (team: TestTeam) => membershipsOf(t, team),
    rolesOf: (user: TestUser, teams: TestTeam[]) => rolesOf(t, user, teams),
  };
}
