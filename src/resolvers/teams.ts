import { z } from 'zod';
import { column, eventRecorder, isoTimestamp } from '../events/index.js';
import { queryRows } from '../db.js';
import { Prisma, type PrismaClient, type Team } from '../generated/prisma/client.js';
import { SlugTakenError, ValidationError } from './errors.js';
import { MAX_LENGTH, slug, text, validate } from './validation.js';

export class CreateTeamSuccess {
  constructor(readonly team: Team) {}
}

export type CreateTeamResult = CreateTeamSuccess | ValidationError | SlugTakenError;

const createTeamInput = z.object({ slug, name: text(1, MAX_LENGTH.name) });

// Each statement's row carries the traceparent of the span it is written in.
const teamCreatedEvent = eventRecorder('team.created', {
  from: 'created',
  aggregateId: column('id'),
  payload: { id: column('id'), slug: column('slug'), name: column('name'), createdAt: isoTimestamp('"createdAt"') },
});

/** One INSERT ... ON CONFLICT DO NOTHING with its event: the unique index decides between concurrent creates. */
export async function createTeam(prisma: PrismaClient, input: { slug: string; name: string }): Promise<CreateTeamResult> {
  const data = validate(createTeamInput, input);
  if (data instanceof ValidationError) return data;
  const [team] = await queryRows<Team>(
    prisma,
    Prisma.sql`
    WITH created AS (
      INSERT INTO "Team" ("slug", "name") VALUES (${data.slug}, ${data.name})
      ON CONFLICT ("slug") DO NOTHING
      RETURNING *),
    event AS (${teamCreatedEvent()})
    SELECT * FROM created`,
  );
  return team ? new CreateTeamSuccess(team) : new SlugTakenError(data.slug);
}

// addTeamMember, removeTeamMember and transferUser live in memberships.ts.
