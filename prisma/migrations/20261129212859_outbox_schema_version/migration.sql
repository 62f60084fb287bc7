-- The version of the payload contract (src/events/contract.ts) each event was written with. Events
-- already in the outbox were written by version 1 writers; the default keeps such writers working
-- during a rolling deploy.
-- AlterTable
ALTER TABLE "OutboxEvent" ADD COLUMN     "schemaVersion" INTEGER NOT NULL DEFAULT 1;
