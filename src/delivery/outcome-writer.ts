import type { Completion } from '../domain/delivery.ts';
import type { Logger } from '../log.ts';

/** Outcomes written per transaction before the write stops waiting for more. */
const FLUSH_AT = 256;
/** Longest an outcome waits for others to share its transaction. */
const FLUSH_WAIT_MS = 5;

export interface OutcomeWriterDeps {
  readonly logger: Logger;
  /** Writes one batch of outcomes in one transaction. */
  readonly write: (batch: readonly Completion[]) => Promise<void>;
  /** After each batch is committed. */
  readonly recorded: (batch: readonly Completion[]) => void;
  /** After a write the writer started by itself is over, committed or not. */
  readonly written: () => void;
}

/**
 * Outcomes are written in batches: one transaction per batch, and its commit, cost about as
 * much as the rows in it. While requests are still on the wire and the batch is small, the
 * write waits (one timer, at most FLUSH_WAIT_MS) for more outcomes to join it; slots are
 * freed on the response, not on the write, so this only delays when a channel's next
 * notification becomes claimable, by a few milliseconds.
 */
export class OutcomeWriter {
  readonly #deps: OutcomeWriterDeps;
  #results: Completion[] = [];
  #chain: Promise<void> = Promise.resolve();
  #queued = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: OutcomeWriterDeps) {
    this.#deps = deps;
  }

  /** Outcomes held, not yet being written. */
  get pending(): number {
    return this.#results.length;
  }

  /**
   * Holds an outcome for the next write. `moreComing` says requests are still on the wire,
   * whose outcomes a small batch may wait for.
   */
  add(completion: Completion, moreComing: boolean): void {
    this.#results.push(completion);
    if (this.#queued) return;
    if (this.#results.length < FLUSH_AT && moreComing) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#flushSoon();
      }, FLUSH_WAIT_MS);
      return;
    }
    this.#flushSoon();
  }

  /** Stops waiting for more outcomes and writes those held. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  /** Writes every outcome held, after any write already under way. Never rejects. */
  flush(): Promise<void> {
    this.#chain = this.#chain.then(async () => {
      while (this.#results.length > 0) {
        const batch = this.#results;
        this.#results = [];
        try {
          await this.#deps.write(batch);
          this.#deps.recorded(batch);
        } catch (err) {
          // The rows stay leased; when the lease runs out they are sent again (at least once).
          this.#deps.logger.error({ err, count: batch.length }, 'recording outcomes failed');
        }
      }
    });
    return this.#chain;
  }

  #flushSoon(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#queued) return;
    this.#queued = true;
    setImmediate(() => {
      this.#queued = false;
      void this.flush().then(this.#deps.written);
    });
  }
}
