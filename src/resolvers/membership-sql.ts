import { Prisma, type TeamRole } from '../generated/prisma/client.js';
import { column, eventRecorder, isoTimestamp, recordEvent } from '../events/index.js';

// The statements of addTeamMember, removeTeamMember and transferUser. Each is one statement, so
// PostgreSQL runs it as its own transaction: the membership change, its outbox event and the count
// triggers commit together, with no BEGIN/COMMIT round trips. Prisma's query builder cannot express
// locks, conditional writes and an outbox insert in one statement, hence raw SQL (Prisma.sql tagged
// templates, run by queryRows: every value is a bind parameter). Why each check is safe is in
// memberships.ts.
//
// Locking CTEs are MATERIALIZED (run once, in full) and each reads the one before it, in its WHERE or
// index condition, so PostgreSQL must take the earlier locks first: user, then teams, then memberships.

/** What every membership statement reports. Rows are the locked (newest) versions, as JSON. */
export interface StatementRow {
  user: Record<string, unknown> | null;
  teams: Record<string, unknown>[] | null;
  /** ADMIN, or an OWNER of every team of the statement, checked under the locks. */
  allowed: boolean;
  /** The role of the membership acted on, when there is one (remove, transfer: the source). */
  role: TeamRole | null;
  /** Transfer: already a member of the target team. */
  inTarget: boolean;
  /** Transfer: the source team has another OWNER. */
  otherOwner: boolean;
  /** The change was written (and its event with it). */
  done: boolean;
}

export interface Caller {
  readonly userId: string | null;
  readonly admin: boolean;
}

/** Steps 1–3, common to the three statements. */
function locks(userId: string, teamIds: string[], caller: Caller): Prisma.Sql {
  return Prisma.sql`
    usr AS MATERIALIZED (
      SELECT * FROM "User" WHERE "id" = ${userId}::uuid FOR NO KEY UPDATE),
    team AS MATERIALIZED (
      SELECT * FROM "Team" WHERE "id" = ANY (${teamIds}::uuid[]) AND (SELECT count(*) FROM usr) >= 0
      ORDER BY "id" FOR NO KEY UPDATE),
    owned AS MATERIALIZED (
      SELECT "teamId" FROM "Membership"
      WHERE "teamId" IN (SELECT "id" FROM team) AND "userId" = ${caller.userId}::uuid AND "role" = 'OWNER'
      FOR SHARE),
    allowed AS MATERIALIZED (
      SELECT ${caller.admin}::boolean OR (SELECT count(*) FROM owned) = ${teamIds.length}::int AS ok)`;
}

const NO_TRANSFER = Prisma.sql`false AS "inTarget", false AS "otherOwner"`;

function report(done: string, role = Prisma.sql`NULL::"TeamRole"`, transfer = NO_TRANSFER): Prisma.Sql {
  return Prisma.sql`
    SELECT (SELECT to_jsonb(usr) FROM usr) AS "user", (SELECT jsonb_agg(to_jsonb(team)) FROM team) AS "teams",
      (SELECT ok FROM allowed) AS "allowed", ${role} AS "role", EXISTS (SELECT FROM ${Prisma.raw(done)}) AS "done",
      ${transfer}`;
}

// Each statement's row carries the traceparent of the span it is written in.
const memberAddedEvent = eventRecorder('team.member_added', {
  from: 'added',
  aggregateId: column('teamId'),
  payload: { userId: column('userId'), teamId: column('teamId'), role: column('role'), joinedAt: isoTimestamp('"joinedAt"') },
});

// Each statement's row carries the traceparent of the span it is written in.
const memberRemovedEvent = eventRecorder('team.member_removed', {
  from: 'removed',
  aggregateId: column('teamId'),
  payload: { teamId: column('teamId'), userId: column('userId'), role: column('role') },
});

/** ON CONFLICT DO NOTHING: the primary key decides "already a member" against the newest data. */
export function addMemberStatement(userId: string, teamId: string, role: TeamRole, caller: Caller): Prisma.Sql {
  return Prisma.sql`
    WITH ${locks(userId, [teamId], caller)},
    added AS (
      INSERT INTO "Membership" ("userId", "teamId", "role")
      SELECT usr."id", team."id", ${role}::"TeamRole" FROM usr, team WHERE (SELECT ok FROM allowed)
      ON CONFLICT DO NOTHING
      RETURNING "userId", "teamId", "role", "joinedAt"),
    event AS (${memberAddedEvent()})
    ${report('added')}`;
}

/** `target` locks the membership to remove; `otherOwner` locks one other OWNER, skipping any gone meanwhile. */
export function removeMemberStatement(userId: string, teamId: string, caller: Caller): Prisma.Sql {
  return Prisma.sql`
    WITH ${locks(userId, [teamId], caller)},
    target AS MATERIALIZED (
      SELECT "role" FROM "Membership"
      WHERE "teamId" = (SELECT "id" FROM team) AND "userId" = (SELECT "id" FROM usr) FOR UPDATE),
    other_owner AS MATERIALIZED (
      SELECT 1 FROM "Membership"
      WHERE "teamId" = (SELECT "id" FROM team) AND "role" = 'OWNER' AND "userId" <> ${userId}::uuid
      LIMIT 1 FOR SHARE),
    removed AS (
      DELETE FROM "Membership"
      WHERE "teamId" = (SELECT "id" FROM team) AND "userId" = (SELECT "id" FROM usr) AND (SELECT ok FROM allowed)
        AND ((SELECT "role" FROM target) = 'MEMBER' OR EXISTS (SELECT FROM other_owner))
      RETURNING "teamId", "userId", "role"),
    event AS (${memberRemovedEvent()})
    ${report('removed', Prisma.sql`(SELECT "role" FROM target)`)}`;
}

/**
 * The new membership is inserted first (ON CONFLICT DO NOTHING) and the old one deleted only if that
 * insert happened, so a refusal found at any step writes nothing. `source` is locked FOR UPDATE: the
 * row we delete is the row whose role we copied.
 */
export function transferStatement(userId: string, fromId: string, toId: string, caller: Caller): Prisma.Sql {
  const event = recordEvent('user.transferred', {
    from: 'moved',
    aggregateId: column('userId'),
    payload: {
      userId: column('userId'),
      fromTeamId: Prisma.sql`${fromId}::uuid`,
      toTeamId: column('teamId'),
      role: column('role'),
      joinedAt: isoTimestamp('"joinedAt"'),
    },
  });
  const teamsLocked = Prisma.sql`(SELECT count(*) FROM team) = 2`;
  return Prisma.sql`
    WITH ${locks(userId, [fromId, toId], caller)},
    source AS MATERIALIZED (
      SELECT "role" FROM "Membership"
      WHERE "userId" = (SELECT "id" FROM usr) AND "teamId" = ${fromId}::uuid AND ${teamsLocked} FOR UPDATE),
    target AS MATERIALIZED (
      SELECT 1 FROM "Membership"
      WHERE "userId" = (SELECT "id" FROM usr) AND "teamId" = ${toId}::uuid AND ${teamsLocked} FOR SHARE),
    other_owner AS MATERIALIZED (
      SELECT 1 FROM "Membership"
      WHERE "teamId" = ${fromId}::uuid AND "role" = 'OWNER' AND "userId" <> ${userId}::uuid AND ${teamsLocked}
      LIMIT 1 FOR SHARE),
    moved AS (
      INSERT INTO "Membership" ("userId", "teamId", "role")
      SELECT ${userId}::uuid, ${toId}::uuid, s."role" FROM source s
      WHERE (SELECT ok FROM allowed) AND NOT EXISTS (SELECT FROM target)
        AND (s."role" = 'MEMBER' OR EXISTS (SELECT FROM other_owner))
      ON CONFLICT DO NOTHING
      RETURNING "userId", "teamId", "role", "joinedAt"),
    moved_out AS (
      DELETE FROM "Membership"
      WHERE "userId" = ${userId}::uuid AND "teamId" = ${fromId}::uuid AND EXISTS (SELECT FROM moved)),
    event AS (${event})
    ${report('moved', Prisma.sql`(SELECT "role" FROM source)`, Prisma.sql`EXISTS (SELECT FROM target) AS "inTarget", EXISTS (SELECT FROM other_owner) AS "otherOwner"`)}`;
}
