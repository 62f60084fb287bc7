import type { Database } from '../db.js';
import { periodic } from '../lib/periodic.js';
import type { Logger } from '../logger.js';
import { pruneBatch } from './outbox.js';

export interface PrunerOptions {
  db: Database;
  logger: Logger;
  retentionHours: number;
  /** Between runs. Default 10 minutes. */
  intervalMs?: number;
  /** Before the first run, so start-up and short-lived processes stay quiet. Default 1 minute. */
  firstRunAfterMs?: number;
  /** Rows per DELETE. Default 1000. */
  batchSize?: number;
  /** DELETEs per run; the rest waits for the next run. Default 50. */
  maxBatches?: number;
}

export interface Pruner {
  /** Deletes published events older than the retention; returns how many. */
  runOnce(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Deletes published events once the retention has passed, in bounded batches (short statements,
 * short locks). Unpublished events are never deleted. Runs in every mode, on every replica:
 * concurrent runs just delete disjoint or already-deleted rows.
 */
export function createPruner(options: PrunerOptions): Pruner {
  const { db, logger, retentionHours } = options;
  const { intervalMs = 600_000, firstRunAfterMs = 60_000, batchSize = 1_000, maxBatches = 50 } = options;
  const runOnce = async () => {
    let deleted = 0;
    for (let round = 0; round < maxBatches; round++) {
      const n = await pruneBatch(db.prisma, retentionHours, batchSize);
      deleted += n;
      if (n < batchSize) break;
    }
    if (deleted) logger.info({ deleted, retentionHours }, 'outbox: pruned published events');
    return deleted;
  };

  const task = periodic(
    () =>
      runOnce()
        .catch((error: unknown) => logger.warn({ err: error }, 'outbox: pruning failed; next run will retry'))
        .then(() => intervalMs),
    { firstRunAfterMs, unref: true },
  );

  return { runOnce, start: task.start, stop: task.stop };
}
