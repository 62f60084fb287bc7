import { AsyncLocalStorage } from 'node:async_hooks';

/** What a statement scope reads of its request's signal (RequestSignal and AbortSignal both have it). */
export interface ScopeSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
}

/**
 * The statements one unit of work (a GraphQL execution) sends, as the database layer sees them:
 * counted (`count`, the SQL budget), their texts kept only when `texts` is an array, and those still
 * running known, so that a request answered at its deadline can cancel them and wait for them to end
 * (`Database.settle`). Once `signal` has aborted, the database layer starts no further statement of
 * the scope but a ROLLBACK.
 */
export class StatementTally {
  count = 0;
  texts: string[] | undefined;
  readonly signal: ScopeSignal | undefined;
  /** Statements sent and not yet answered. */
  running = 0;
  /**
   * The scope of a statement sent for this one and others together (a write grouped with other
   * requests' writes: see SharedCreates), while this scope waits for it. It counts in `running`, and
   * `Database.settle` cancels it with this scope's own: a request answered at its deadline leaves no
   * write of its own behind that commits later.
   */
  joined: StatementTally | undefined;
  #idle: (() => void)[] | undefined;

  constructor(texts?: string[], signal?: ScopeSignal) {
    this.texts = texts;
    this.signal = signal;
  }

  /**
   * A statement sent for the scope but not from it (a lookup shared with other requests, see
   * SharedLookups; a create grouped with theirs, see SharedCreates) answered: counted as the scope's
   * own would be, with its text when texts are kept.
   */
  charge(text: string | undefined): void {
    this.count++;
    if (text !== undefined) this.texts?.push(text);
  }

  /** A statement of the scope is being sent. */
  start(): void {
    this.running++;
  }

  /** A statement of the scope was answered (with rows or an error). */
  end(): void {
    if (--this.running > 0 || this.#idle === undefined) return;
    const waiting = this.#idle;
    this.#idle = undefined;
    for (const resolve of waiting) resolve();
  }

  /** Resolves once no statement of the scope is running. */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#idle ??= []).push(resolve));
  }
}

/**
 * The scope of the statement being sent, by async context: `Database.tally` runs an execution in it,
 * and every statement sent from there (awaits, promise callbacks, DataLoader batches) belongs to it.
 */
export const statementScope = new AsyncLocalStorage<StatementTally>();
