/**
 * How a poll ended: `changed` or `unchanged` once recorded, `failed` (retried after a
 * backoff) or `disconnected` (the upstream refused the credentials).
 */
export type PollOutcome = 'changed' | 'unchanged' | 'failed' | 'disconnected';

/** Told of every poll the scheduler finishes (metrics); must not throw or block. */
export interface PollObserver {
  polled(provider: string, outcome: PollOutcome, seconds: number): void;
}
