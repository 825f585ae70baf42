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
  /** The steady clock (`monotonicNow`) a delivery's `heldUntil` is on. */
  readonly now: () => number;
}

/** Waits before writing a failed batch again: the store is restarting or unreachable. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;

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
  #retryTimer: NodeJS.Timeout | undefined;
  #retryMs = RETRY_FIRST_MS;

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
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
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
          this.#retryMs = RETRY_FIRST_MS;
          this.#deps.recorded(batch);
        } catch (err) {
          this.#deps.logger.error({ err, count: batch.length }, 'recording outcomes failed');
          this.#retryLater(batch);
          break;
        }
      }
    });
    return this.#chain;
  }

  /**
   * A batch that could not be written is tried again, with backoff, while its leases hold;
   * an outcome whose lease ran out would change nothing, and its notification is sent again.
   */
  #retryLater(batch: readonly Completion[]): void {
    const now = this.#deps.now();
    const held = batch.filter((c) => c.delivery.heldUntil > now);
    this.#results = [...held, ...this.#results];
    if (this.#results.length === 0 || this.#retryTimer) return;
    const wait = this.#retryMs;
    this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#flushSoon();
    }, wait);
    this.#retryTimer.unref();
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
