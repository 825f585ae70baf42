import type { CoreResources } from '../core/resources.ts';
import type { Logger } from '../log.ts';
import type { LeasedSource } from '../core/source-sync.ts';
import { SourceError } from '../domain/source.ts';
import { CoreError } from '../core/errors.ts';
import { KeyedSlots } from '../domain/keyed-slots.ts';
import {
  leaseDueSources,
  recordPoll,
  recordPollFailure,
  releaseAllSourceLeases,
  releaseSourceLeases,
  renewSourceLease,
} from '../core/source-sync.ts';
import { pollBackoffMs, withJitter } from './poll-timing.ts';
import type { PollObserver, PollOutcome } from './poll-observer.ts';

export interface SchedulerLimits {
  /** Polls under way at once, over every source. */
  readonly concurrency: number;
  /** Polls under way at once against one upstream host. */
  readonly perHost: number;
  /** How long a node owns a poll; one that takes longer may be taken over. */
  readonly leaseMs: number;
  /** Stores several nodes share lock the sources they lease (SKIP LOCKED). */
  readonly lockRows: boolean;
  /** Single-node stores free every source lease at start; shared ones wait for them to end. */
  readonly releaseLeasesOnStart: boolean;
}

export interface SchedulerDeps {
  readonly res: CoreResources;
  readonly logger: Logger;
  readonly random: () => number;
  readonly limits: SchedulerLimits;
  readonly observer?: PollObserver;
}

/** How often due sources are looked for when nothing wakes the scheduler sooner. */
const LOOK_EVERY_MS = 1000;
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Polls every source when it comes due: leases it (one node at a time), asks its provider
 * what changed since the stored cursors, and hands the result to the core, which stores it
 * and notifies in one transaction. Concurrency is bounded overall and per upstream host, so
 * one slow server only ever holds its own slots.
 */
export class SourceScheduler {
  readonly #deps: SchedulerDeps;
  readonly #perHost: KeyedSlots<LeasedSource>;
  readonly #polls = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #looking: Promise<number> = Promise.resolve(0);
  #lookQueued = false;
  #running = false;
  /** Once stopped, a freed slot starts nothing more. */
  #stopped = false;
  /** Sources polled here now: never leased again while their poll runs. */
  readonly #inFlight = new Set<string>();

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    // A poll waiting for its host's slot keeps its lease; one waiting past half of it goes
    // back, to be leased again (here or by another node).
    this.#perHost = new KeyedSlots(deps.limits.perHost, deps.limits.leaseMs / 2);
  }

  async start(): Promise<void> {
    // After a crash nobody holds a lease: a single-node store frees them all at once, so no
    // source waits for a dead process's lease to run out.
    if (this.#deps.limits.releaseLeasesOnStart) await releaseAllSourceLeases(this.#deps.res);
    this.#running = true;
    this.#timer = setInterval(() => this.wake(), LOOK_EVERY_MS);
    this.#timer.unref();
    this.wake();
  }

  /** Stops leasing; polls under way finish and are recorded, those still waiting go back. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#looking;
    const waiting: LeasedSource[] = [];
    this.#perHost.dropWaiting((source) => waiting.push(source) > 0);
    await releaseSourceLeases(this.#deps.res, waiting).catch((err: unknown) =>
      this.#deps.logger.error({ err }, 'handing back source leases failed'),
    );
    await Promise.allSettled([...this.#polls]);
  }

  /** A source may be due now (a new one, a "poll now"): look soon. Calls coalesce. */
  wake(): void {
    if (!this.#running || this.#lookQueued) return;
    this.#lookQueued = true;
    setImmediate(() => {
      this.#lookQueued = false;
      this.#look().catch((err: unknown) => this.#deps.logger.error({ err }, 'source lease failed'));
    });
  }

  /** Polls every source due now and waits for each outcome; for tests and maintenance. */
  async runUntilIdle(): Promise<void> {
    for (;;) {
      const leased = await this.#look();
      while (this.#polls.size > 0) await Promise.allSettled([...this.#polls]);
      if (leased === 0 && this.#perHost.waiting === 0) return;
    }
  }

  #look(): Promise<number> {
    this.#looking = this.#looking.then(
      () => this.#leaseWhileRoom(),
      () => this.#leaseWhileRoom(),
    );
    return this.#looking;
  }

  async #leaseWhileRoom(): Promise<number> {
    const { res, limits } = this.#deps;
    const room = limits.concurrency - this.#polls.size - this.#perHost.waiting;
    if (room <= 0) return 0;
    const leased = await leaseDueSources(res, {
      now: res.clock.now(),
      limit: room,
      leaseMs: limits.leaseMs,
      lockRows: limits.lockRows,
      exclude: [...this.#inFlight],
      // One busy host (a large provider many users share) must not fill every slot with
      // polls that can only wait for it: its due sources stay for a later look.
      busyHosts: this.#perHost.saturated(),
    });
    for (const source of leased) {
      const host = source.host;
      if (this.#perHost.tryTake(host)) this.#start(host, source);
      else this.#perHost.wait(host, source, performance.now());
    }
    return leased.length;
  }

  #start(host: string, source: LeasedSource): void {
    this.#inFlight.add(source.id);
    const poll = this.#poll(source).finally(() => {
      this.#polls.delete(poll);
      this.#inFlight.delete(source.id);
      const stale: LeasedSource[] = [];
      const next = this.#perHost.release(host, performance.now(), stale);
      if (next && this.#stopped) stale.push(next);
      else if (next) this.#start(host, next);
      // Polls that waited past half their lease go back unstarted: a lease must not run out
      // while its poll is still to come.
      if (stale.length > 0) {
        releaseSourceLeases(this.#deps.res, stale).catch((err: unknown) =>
          this.#deps.logger.error(
            { err, count: stale.length },
            'handing back source leases failed',
          ),
        );
      }
      this.wake();
    });
    this.#polls.add(poll);
  }

  /** One poll and its outcome; never rejects. */
  async #poll(leased: LeasedSource): Promise<void> {
    const { res, logger, random, limits } = this.#deps;
    const provider = res.sources.providers.get(leased.provider);
    const started = res.clock.now();
    const timer = performance.now();
    const observe = (outcome: PollOutcome) =>
      this.#deps.observer?.polled(leased.provider, outcome, (performance.now() - timer) / 1000);
    // A long poll (a large first sync on a slow server) renews its lease as it goes, so no
    // other node takes it over and polls the same source again meanwhile.
    let source = leased;
    let renewal: Promise<void> = Promise.resolve();
    const renewing = setInterval(() => {
      renewal = renewal
        .then(async () => {
          const until = await renewSourceLease(res, source, limits.leaseMs, res.clock.now());
          if (until !== null) source = { ...source, leaseUntil: until };
          else clearInterval(renewing);
        })
        .catch((err: unknown) => logger.error({ err, source: source.id }, 'lease renewal failed'));
    }, limits.leaseMs / 3);
    renewing.unref();
    // The outcome is recorded under the lease as last renewed, never beside a renewal.
    const settled = async () => {
      clearInterval(renewing);
      await renewal;
      return source;
    };
    try {
      if (!provider)
        throw new SourceError('malformed', `no provider ${source.provider} is registered`);
      const result = await provider.poll(source);
      const now = res.clock.now();
      // A floor raised since the source was made applies to it too.
      const interval = Math.max(source.pollIntervalMs, res.sources.minIntervalMs);
      // A provider may need to be back sooner (a push channel to renew, watches to retry).
      const next = Math.max(
        now,
        Math.min(now + withJitter(interval, random()), result.pollBy ?? Infinity),
      );
      const recorded = await recordPoll(res, await settled(), result, now, next);
      logger.debug({ source: source.id, ms: now - started, ...recorded }, 'source polled');
      observe(recorded.changed > 0 ? 'changed' : 'unchanged');
    } catch (err) {
      const now = res.clock.now();
      const disconnect = err instanceof SourceError && err.kind === 'auth';
      observe(disconnect ? 'disconnected' : 'failed');
      // Only a source's own errors are shown to its user; anything else is ours, and logged.
      const known = err instanceof SourceError || err instanceof CoreError;
      const message = known ? err.message : 'internal error while polling (see the server log)';
      if (!known) logger.error({ err, source: source.id }, 'source poll failed');
      const interval = Math.max(source.pollIntervalMs, res.sources.minIntervalMs);
      const wait = pollBackoffMs(interval, source.failures + 1, random());
      // A server's Retry-After is honoured, up to a day: never a source given up for good.
      const retryAfter = Math.min(
        err instanceof SourceError ? (err.retryAfterMs ?? 0) : 0,
        MAX_RETRY_AFTER_MS,
      );
      await recordPollFailure(
        res,
        await settled(),
        { disconnect, message, nextPollAt: now + Math.max(wait, retryAfter) },
        now,
      ).catch((e: unknown) =>
        logger.error({ err: e, source: source.id }, 'recording a failed poll failed'),
      );
    } finally {
      clearInterval(renewing);
    }
  }
}
