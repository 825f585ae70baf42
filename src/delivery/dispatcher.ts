import { EventEmitter } from 'node:events';
import type { Completion, Delivery } from '../domain/delivery.ts';
import { membersOf } from '../domain/delivery.ts';
import type { BatchRule } from '../domain/dialect.ts';
import type { DispatcherDeps } from './dispatcher-deps.ts';
import { RequestHandle, sendClockNow } from './http-sender.ts';
import { KeyedSlots } from '../domain/keyed-slots.ts';
import { attemptDelivery } from './delivery-attempt.ts';
import { OutcomeWriter } from './outcome-writer.ts';
import type { InFlight } from './in-flight-requests.ts';
import { InFlightRequests } from './in-flight-requests.ts';
import { DueTimer } from './due-timer.ts';
import { claimDue, nextDueAt } from '../store/queue/claim.ts';
import { recordCompletions } from '../store/queue/complete.ts';
import { releaseAllLeases, releaseClaims } from '../store/queue/release.ts';
import { closeExpired } from '../store/channel-closing.ts';
import { queueExpiryNotices } from '../store/expiry-notices.ts';
import { shareRequests } from './shared-requests.ts';
import { inTransaction } from '../store/transaction.ts';
import { monotonicNow } from '../domain/clock.ts';
import { sendRoom } from './send-room.ts';

/** Free slots that make a claim worth its transaction before the outcomes are written. */
const CLAIM_AT_ROOM = 128;
/** Due times further out than this are left to the regular look every 200 ms. */
const WAKE_TIMER_MAX_MS = 10_000;

/**
 * Moves notifications from the outbox to their receivers: claims due channels in batches,
 * sends each head notification, and writes the outcomes back in batches. Concurrency is
 * bounded globally and per origin, so an endpoint that hangs only ever holds its own slots.
 */
export class Dispatcher {
  /**
   * `claimed` fires after each claim with the number of deliveries it took, `recorded` after
   * each batch of outcomes is committed (for tests and metrics).
   */
  readonly events = new EventEmitter<{
    claimed: [number];
    recorded: [readonly Completion[]];
  }>();
  readonly #deps: DispatcherDeps;
  readonly #inFlight = new InFlightRequests();
  /**
   * Slots per origin. Deliveries claimed while their origin was at its bound wait for its
   * slots to free up. A close drops them, and one that waited past half its lease goes back
   * to the queue unsent, so a claim never outlives its lease while another takes the channel
   * over.
   */
  readonly #perOrigin: KeyedSlots<Delivery>;
  readonly #outcomes: OutcomeWriter;
  #pumpChain: Promise<number> = Promise.resolve(0);
  /** The claim waiting for the one under way to end, if any. */
  #pumpWaiting: Promise<number> | undefined;
  #pumpQueued = false;
  /** When the last claim started (performance.now()): the spacing runs start to start. */
  #lastClaimAt = -Infinity;
  #timers: NodeJS.Timeout[] = [];
  readonly #dueTimer = new DueTimer(() => this.wake());
  /**
   * Origins excluded by the last claim that came back short. While they all stay saturated
   * and nothing new is queued, the same claim can only find nothing again, and on SQLite it
   * would walk every due row of those origins to say so (the profile's top cost when one
   * origin has a large backlog), so it is skipped.
   */
  #shortBehind: ReadonlySet<string> | null = null;
  /**
   * Whether the last claim may have left due channels unclaimed: it filled its room, left
   * out saturated origins, or found no room at all. Only then does a freed slot call for a
   * claim of its own; otherwise what comes due next wakes the dispatcher anyway (a write, a
   * recorded outcome, the due timer), and a claim per finished request would find nothing.
   */
  #leftBehind = true;
  /** Background work runs only between start() and stop(); runUntilIdle() works regardless. */
  #running = false;

  /** Dialects that carry several of a channel's notifications per request. */
  readonly #batching: ReadonlyMap<string, BatchRule>;

  constructor(deps: DispatcherDeps) {
    this.#deps = deps;
    this.#batching = new Map(
      Object.entries(deps.dialects).flatMap(([name, d]) => (d.batch ? [[name, d.batch]] : [])),
    );
    this.#perOrigin = new KeyedSlots(deps.limits.maxInFlightPerOrigin, deps.limits.leaseMs / 2);
    const { db, clock, limits } = deps;
    this.#outcomes = new OutcomeWriter({
      logger: deps.logger,
      write: (batch) => recordCompletions(db, batch, clock.now(), limits.minIntervalMs),
      recorded: (batch) => this.#recorded(batch),
      written: () => this.#schedulePump(),
      now: () => monotonicNow(clock),
    });
  }

  async start(): Promise<void> {
    if (this.#deps.releaseLeasesOnStart) await releaseAllLeases(this.#deps.db);
    this.#running = true;
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.#timers.push(t);
    };
    // Retries and expiries come due with time, not with writes: look for them regularly.
    every(200, () => this.wake());
    every(100, () => this.#inFlight.abortOverdue(performance.now(), this.#deps.limits.timeoutMs));
    every(1000, () => void this.#closeExpired());
    this.wake();
  }

  /** Stops claiming, lets requests on the wire finish (bounded by the timeout), records them. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#dueTimer.clear();
    await this.#pumpChain;
    await this.#inFlight.settled();
    await this.#outcomes.stop();
  }

  /** Something may be due: claim soon. Cheap to call often; calls coalesce. */
  wake(): void {
    this.#shortBehind = null;
    this.#schedulePump();
  }

  /**
   * Looks again when the next channel comes due: the end of a quiet interval or a retry's
   * backoff is usually closer than the next regular look. One timer serves every channel;
   * each claim that comes back short re-arms it for whatever is due next.
   */
  #wakeAt(at: number): void {
    const ms = at - this.#deps.clock.now();
    if (!this.#running || ms > WAKE_TIMER_MAX_MS) return;
    this.#dueTimer.armIn(ms);
  }

  #schedulePump(): void {
    if (this.#pumpQueued || !this.#running) return;
    this.#pumpQueued = true;
    const run = () => {
      this.#pumpQueued = false;
      if (!this.#running) return;
      this.#pump().catch((err: unknown) => this.#deps.logger.error({ err }, 'claim failed'));
    };
    const wait = this.#lastClaimAt + this.#deps.limits.claimSpacingMs - performance.now();
    // Referenced, like the setImmediate: a claim that is due keeps the process alive.
    if (wait > 0) setTimeout(run, wait);
    else setImmediate(run);
  }

  /** Aborts requests on the wire for channels that were just closed. */
  abortChannels(channelIds: readonly string[]): void {
    const ids = new Set(channelIds);
    this.#inFlight.abortChannels(ids);
    // Their rows were cancelled with the close; the in-memory copies must not go out either.
    // A shared request waiting for a slot is dropped whole; the other channels' heads in it
    // go back to the queue.
    const innocent: Delivery[] = [];
    this.#perOrigin.dropWaiting((delivery) => {
      const members = membersOf(delivery);
      if (!members.some((d) => ids.has(d.channel.id))) return false;
      innocent.push(...members.filter((d) => !ids.has(d.channel.id)));
      return true;
    });
    if (innocent.length > 0) this.#handBack(innocent);
  }

  /** Delivers everything due now, waiting for every outcome; for tests and maintenance. */
  async runUntilIdle(): Promise<void> {
    for (;;) {
      this.#shortBehind = null;
      const claimed = await this.#pump();
      while (this.#inFlight.size > 0) await this.#inFlight.settled();
      await this.#outcomes.flush();
      if (claimed === 0 && this.#outcomes.pending === 0 && this.#perOrigin.waiting === 0) return;
    }
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Claims after the claim under way, if any. At most one waits behind it: a claim that has
   * not started yet sees whatever a later call would have it see, so calls made meanwhile
   * share it. Chained one per call instead, the wait grew by every wake that came during a
   * slow claim, and the chain outlived the work by thousands of empty claims.
   */
  #pump(): Promise<number> {
    if (this.#pumpWaiting) return this.#pumpWaiting;
    const claim = () => {
      this.#pumpWaiting = undefined;
      return this.#claimWhileRoom();
    };
    this.#pumpWaiting = this.#pumpChain.then(claim, claim);
    this.#pumpChain = this.#pumpWaiting;
    return this.#pumpWaiting;
  }

  async #claimWhileRoom(): Promise<number> {
    const { limits } = this.#deps;
    let total = 0;
    for (;;) {
      const room = Math.min(limits.claimBatch, this.#room());
      if (room <= 0) {
        this.#leftBehind = true;
        break;
      }
      const excludeOrigins = this.#perOrigin.saturated();
      const behind = this.#shortBehind;
      if (behind && [...behind].every((o) => excludeOrigins.includes(o))) break;
      this.#lastClaimAt = performance.now();
      const deliveries = await claimDue(this.#deps.db, {
        now: () => this.#deps.clock.now(),
        steadyNow: () => monotonicNow(this.#deps.clock),
        limit: room,
        leaseMs: limits.leaseMs,
        excludeOrigins,
        lockRows: this.#deps.lockClaimedRows,
        ...(this.#batching.size > 0 ? { batching: this.#batching } : {}),
      });
      total += deliveries.length;
      this.#leftBehind = deliveries.length >= room || excludeOrigins.length > 0;
      for (const d of shareRequests(deliveries, this.#batching)) this.#dispatch(d);
      // After dispatching: a listener that throws must not strand leased rows unsent.
      this.events.emit('claimed', deliveries.length);
      if (deliveries.length < room) {
        if (excludeOrigins.length > 0) this.#shortBehind = new Set(excludeOrigins);
        // An armed timer is almost always the earliest: quiet ends only move later, and
        // backoffs start at seconds. Whatever it misses, the regular look still finds.
        if (!this.#dueTimer.armed) {
          const next = await nextDueAt(this.#deps.db, this.#deps.clock.now(), WAKE_TIMER_MAX_MS);
          if (next !== null) this.#wakeAt(next);
        }
        break;
      }
    }
    return total;
  }

  #room(): number {
    return this.#deps.limits.maxInFlight - this.#inFlight.size - this.#perOrigin.waiting;
  }

  #dispatch(delivery: Delivery): void {
    const origin = delivery.channel.origin;
    if (this.#perOrigin.tryTake(origin)) this.#start(delivery);
    else this.#perOrigin.wait(origin, delivery, performance.now());
  }

  /** Sends a delivery that holds one of its origin's slots. */
  #start(delivery: Delivery): void {
    // Fencing: a claim is sent only while its lease holds for the whole send. Past that,
    // another node may have taken the channel over (this one was paused, or waited for its
    // slot), so the claim is handed back unsent rather than sent a second time. Measured on
    // this node's steady clock from before the claim, never against the lease's stamp.
    const margin = sendRoom(delivery, this.#deps.clock, this.#deps.limits.timeoutMs);
    if (margin <= 0) {
      this.#handBack([delivery]);
      this.#release(delivery.channel.origin);
      return;
    }
    const entry: InFlight = {
      delivery,
      // The same bound again where the request is written: a connection may have to be made
      // first, and a process stopped meanwhile would send it late.
      handle: new RequestHandle(sendClockNow() + margin),
      startedAt: performance.now(),
      timeoutMs: this.#deps.dialects[delivery.channel.dialect]?.timeoutMs,
    };
    this.#inFlight.add(entry);
    entry.task = attemptDelivery(this.#deps, entry, this.#finished);
  }

  /**
   * An attempt's outcomes are in: its slot goes to the next, its outcomes to the writer.
   * None when nothing was sent (too late for its lease): the claims go back.
   */
  readonly #finished = (entry: InFlight, completions: readonly Completion[] | null): void => {
    this.#inFlight.delete(entry);
    this.#release(entry.delivery.channel.origin);
    if (!completions) {
      this.#handBack(membersOf(entry.delivery));
      return;
    }
    for (const completion of completions) this.#outcomes.add(completion, this.#inFlight.size > 0);
    // Where the last claim left work behind, freed slots are refilled without waiting for the
    // outcomes' write: a claim never touches channels still leased, and waiting would leave
    // every slot idle a few ms. Otherwise the write's own wake is soon enough.
    if (this.#leftBehind && this.#room() >= CLAIM_AT_ROOM) this.#schedulePump();
  };

  #release(origin: string): void {
    const stale: Delivery[] = [];
    const next = this.#perOrigin.release(origin, performance.now(), stale);
    if (next) this.#start(next);
    if (stale.length > 0) this.#handBack(stale);
  }

  /** Claims not sent go back to the queue (only those whose lease this node still holds). */
  #handBack(deliveries: readonly Delivery[]): void {
    releaseClaims(this.#deps.db, deliveries.flatMap(membersOf)).catch((err: unknown) =>
      // Not handed back: the leases run out and the channels are claimed again.
      this.#deps.logger.error({ err, count: deliveries.length }, 'handing back claims failed'),
    );
  }

  /** A batch of outcomes is committed. */
  #recorded(batch: readonly Completion[]): void {
    // A completion may leave its channel due again; unless its origin is one the last short
    // claim excluded, that claim has to be tried again.
    const behind = this.#shortBehind;
    if (behind && batch.some((c) => !behind.has(c.delivery.channel.origin))) {
      this.#shortBehind = null;
    }
    this.events.emit('recorded', batch);
  }

  /** Dialects that warn before a lifetime ends: their notices, once per lifetime. */
  async #queueExpiryNotices(): Promise<number> {
    const { db, clock, dialects } = this.#deps;
    let queued = 0;
    for (const [name, dialect] of Object.entries(dialects)) {
      const notice = dialect.expiryNotice;
      if (!notice) continue;
      queued += await inTransaction(db, (trx) =>
        queueExpiryNotices(trx, { dialect: name, ...notice }, clock.now()),
      );
    }
    return queued;
  }

  /** Closes what expired and queues expiry notices; tests call it to run the sweep now. */
  sweepExpiries(): Promise<void> {
    return this.#closeExpired();
  }

  async #closeExpired(): Promise<void> {
    try {
      const { db, clock } = this.#deps;
      const closed = await inTransaction(db, (trx) => closeExpired(trx, clock.now()));
      this.abortChannels(closed);
      if ((await this.#queueExpiryNotices()) > 0) this.wake();
    } catch (err) {
      this.#deps.logger.error({ err }, 'closing expired channels failed');
    }
  }
}
