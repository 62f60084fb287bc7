-- AlterTable
ALTER TABLE "Team" ADD COLUMN     "memberCount" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "teamCount" INTEGER NOT NULL DEFAULT 0;

-- Membership counts, kept exact by statement-level triggers rather than by each mutation's SQL:
-- * ON DELETE CASCADE from "User" deletes memberships that the deleting statement's snapshot may not
--   even see (one committed while it waited on the user row); only a trigger sees every deleted row.
-- * Every writer keeps them right: the service's mutations, the seeds, test fixtures, ad-hoc SQL and,
--   during a rolling deploy, the previous release of the service.
-- * The trigger runs inside the statement that changes the membership, so it costs no round trip.
-- Statement-level with transition tables: one grouped UPDATE per table, not one per row (bulk seeds).
-- A change of role alone nets to zero and touches neither table. The service's mutations lock the
-- user row, then the team rows, before writing a membership, so the UPDATEs below never wait there.
CREATE FUNCTION "Membership_counts"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE "User" u SET "teamCount" = u."teamCount" + d.n
      FROM (SELECT "userId", count(*)::int AS n FROM new_rows GROUP BY 1) d WHERE u."id" = d."userId";
    UPDATE "Team" t SET "memberCount" = t."memberCount" + d.n
      FROM (SELECT "teamId", count(*)::int AS n FROM new_rows GROUP BY 1) d WHERE t."id" = d."teamId";
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE "User" u SET "teamCount" = u."teamCount" - d.n
      FROM (SELECT "userId", count(*)::int AS n FROM old_rows GROUP BY 1) d WHERE u."id" = d."userId";
    UPDATE "Team" t SET "memberCount" = t."memberCount" - d.n
      FROM (SELECT "teamId", count(*)::int AS n FROM old_rows GROUP BY 1) d WHERE t."id" = d."teamId";
  ELSE
    UPDATE "User" u SET "teamCount" = u."teamCount" + d.n
      FROM (SELECT "userId", sum(n)::int AS n
            FROM (SELECT "userId", 1 AS n FROM new_rows UNION ALL SELECT "userId", -1 FROM old_rows) x
            GROUP BY 1 HAVING sum(n) <> 0) d
      WHERE u."id" = d."userId";
    UPDATE "Team" t SET "memberCount" = t."memberCount" + d.n
      FROM (SELECT "teamId", sum(n)::int AS n
            FROM (SELECT "teamId", 1 AS n FROM new_rows UNION ALL SELECT "teamId", -1 FROM old_rows) x
            GROUP BY 1 HAVING sum(n) <> 0) d
      WHERE t."id" = d."teamId";
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "Membership_counts_insert" AFTER INSERT ON "Membership"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Membership_counts"();
CREATE TRIGGER "Membership_counts_delete" AFTER DELETE ON "Membership"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "Membership_counts"();
CREATE TRIGGER "Membership_counts_update" AFTER UPDATE ON "Membership"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Membership_counts"();

-- Backfill. The script is one transaction and CREATE TRIGGER locks "Membership" against writes until
-- it commits, so no membership can change between these counts and the triggers taking over.
UPDATE "User" u SET "teamCount" = c.n
  FROM (SELECT "userId", count(*)::int AS n FROM "Membership" GROUP BY 1) c WHERE u."id" = c."userId";
UPDATE "Team" t SET "memberCount" = c.n
  FROM (SELECT "teamId", count(*)::int AS n FROM "Membership" GROUP BY 1) c WHERE t."id" = c."teamId";
