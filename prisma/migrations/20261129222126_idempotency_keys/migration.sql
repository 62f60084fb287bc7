-- CreateTable
CREATE TABLE "IdempotencyKey" (
    "subject" VARCHAR(255) NOT NULL,
    "key" VARCHAR(255) NOT NULL,
    "fingerprint" CHAR(64) NOT NULL,
    "state" VARCHAR(16) NOT NULL,
    "status" INTEGER,
    "headers" JSONB,
    "body" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "IdempotencyKey_pkey" PRIMARY KEY ("subject","key")
);

-- CreateIndex
CREATE INDEX "IdempotencyKey_expiresAt_idx" ON "IdempotencyKey"("expiresAt");

-- Two states only: claimed by a request still running, or finished with its response stored.
ALTER TABLE "IdempotencyKey" ADD CONSTRAINT "IdempotencyKey_state_check" CHECK ("state" IN ('IN_FLIGHT', 'COMPLETE'));
