import { sql } from 'kysely';
import type { Insertable } from 'kysely';
import type { AttemptsTable, Db, Executor } from './schema.ts';
import { prepared } from './prepared.ts';
import type { Completion, Delivery } from '../domain/delivery.ts';
import { lockChannels, sendingIds } from './channel-locks.ts';
import { PENDING, SENDING, liveState, liveStateOf } from './live-notifications.ts';
import { inTransaction } from './transaction.ts';
import { closeChannels } from './channel-closing.ts';
import { boundLimit } from './bound-limit.ts';
import { ACTIVE } from './channel-states.ts';
import { parseStoredInterest } from './stored-interest.ts';
import { chunks, insertRuns, padToPowerOfTwo } from './list-lengths.ts';
import { traitsOf } from './engine-traits.ts';

export interface ClaimOptions {
  readonly now: number;
  readonly limit: number;
  readonly leaseMs: number;
  /** Origins already at their concurrency bound: leave their channels for later. */
  readonly excludeOrigins: readonly string[];
  /** PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent nodes claim disjoint channels. */
  readonly lockRows?: boolean;
}

/** What a delivery needs of its channel. */
const DELIVERY_COLUMNS = [
  'id',
  'dialect',
  'public_id',
  'client_id',
  'callback_url',
  'origin',
  'interest_json',
  'token',
  'expires_at',
  'failing_since',
] as const;

/** A channel's head notification (its oldest pending one), as `n`, for set-based updates. */
const pendingHead = sql`from notifications n
  where n.channel_id = channels.id and ${liveStateOf('n')} and n.state = 'pending'
  order by n.id limit 1`;

/** Due time of a channel's head notification; null when nothing is queued. */
const headDueAt = sql<number | null>`(select n.due_at ${pendingHead})`;

/** Due time of a channel's head notification, but not before `notBefore`. */
function headDueNotBefore(notBefore: number) {
  return sql<number | null>`(select
  case when n.due_at < ${notBefore} then ${notBefore} else n.due_at end ${pendingHead})`;
}

/** The oldest notification in a channel's queue: what a claim of the channel sends. */
const queueHead = sql<number | null>`(select min(n.id) from notifications n
  where n.channel_id = channels.id and ${liveStateOf('n')})`;

function leaseDueQuery(lockRows: boolean) {
  return prepared(
    (db, now: number, leaseUntil: number, excludeOrigins: string[], limit: number) => {
      // Picked by the engine's claim key: on SQLite the rowid, where by `id` each row would
      // cost one more index lookup.
      const key = sql.ref(traitsOf(db).claimKey);
      let due = db
        .selectFrom('channels')
        .select(key.as('key'))
        .where('queue_due_at', '<=', now)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .where('state', '=', ACTIVE);
      if (excludeOrigins.length > 0) due = due.where('origin', 'not in', excludeOrigins);
      due = due.orderBy('queue_due_at').limit(boundLimit(limit));
      if (lockRows) due = due.forUpdate().skipLocked();
      return db
        .updateTable('channels')
        .set({ lease_until: leaseUntil, queue_due_at: leaseUntil, sending_id: queueHead })
        .where(key, 'in', due)
        .returning([...DELIVERY_COLUMNS, 'sending_id']);
    },
  );
}
const leaseDue = leaseDueQuery(false);
const leaseLockedDue = leaseDueQuery(true);

const liveNotificationsById = prepared((db, ids: number[]) =>
  db
    .selectFrom('notifications')
    .select(['id', 'kind', 'changes_since', 'attempts'])
    .where('id', 'in', ids)
    .where(liveState),
);

/**
 * Leases up to `limit` due channels and returns the head notification of each. Claiming by
 * channel, not by notification, is what keeps one request in flight per channel and so
 * every channel's notifications in order.
 */
export async function claimDue(db: Db, opts: ClaimOptions): Promise<Delivery[]> {
  const leaseUntil = opts.now + opts.leaseMs;
  return inTransaction(db, async (trx) => {
    // One statement picks the channels, leases them and records the head each will send: a
    // set-based UPDATE … RETURNING, not a SELECT and then an UPDATE by an id list. The head's
    // row is only read, not written (see `sending_id` in the schema).
    // The lease also moves the channel's due time to the lease's end: in-flight channels leave
    // the head of the due index (no claim walks them), and one whose holder died is due again
    // exactly when its lease runs out.
    const lease = opts.lockRows ? leaseLockedDue : leaseDue;
    const { rows: channels } = await lease(
      trx,
      opts.now,
      leaseUntil,
      padToPowerOfTwo(opts.excludeOrigins),
      opts.limit,
    );
    if (channels.length === 0) return [];
    // On PostgreSQL the lease's subquery reads the snapshot its statement started with,
    // before the rows were locked: a head delivered meanwhile may be recorded. Rows only ever
    // leave the queue (a retried head never was out of it), so such a head is no longer
    // queued, and the oldest queued one is otherwise the same: heads are read only if still
    // queued, and a channel whose head is not is freed below, to be claimed again.
    const headIds = sendingIds(channels);
    const { rows: heads } =
      headIds.length === 0
        ? { rows: [] }
        : await liveNotificationsById(trx, padToPowerOfTwo(headIds));
    const headById = new Map(heads.map((n) => [Number(n.id), n]));
    const headOf = (c: (typeof channels)[number]) =>
      c.sending_id === null ? undefined : headById.get(Number(c.sending_id));
    const unsendable = channels.filter((c) => !headOf(c)).map((c) => c.id);
    if (unsendable.length > 0) {
      // Nothing queued after all (cancelled meanwhile): the channel leaves the schedule.
      await trx
        .updateTable('channels')
        .set({ queue_due_at: headDueAt, lease_until: null, sending_id: null })
        .where('id', 'in', unsendable)
        .execute();
    }
    if (heads.length === 0) return [];
    const secrets = await secretsByClient(trx, [...new Set(channels.map((c) => c.client_id))]);
    const deliveries: Delivery[] = [];
    for (const c of channels) {
      const head = headOf(c);
      if (!head) continue;
      deliveries.push({
        notificationId: Number(head.id),
        kind: head.kind,
        changesSince: head.changes_since === null ? null : Number(head.changes_since),
        attempts: head.attempts,
        channel: {
          id: c.id,
          dialect: c.dialect,
          publicId: c.public_id,
          clientId: c.client_id,
          callbackUrl: c.callback_url,
          origin: c.origin,
          interest: parseStoredInterest(c.interest_json),
          token: c.token,
          expiresAt: c.expires_at === null ? null : Number(c.expires_at),
          failingSince: c.failing_since === null ? null : Number(c.failing_since),
        },
        secrets: secrets.get(c.client_id) ?? [],
        leaseUntil,
      });
    }
    // RETURNING has no order: send the oldest notifications first.
    return deliveries.sort((a, b) => a.notificationId - b.notificationId);
  });
}

const earliestDueAfter = prepared((db, now: number) =>
  db
    .selectFrom('channels')
    .select((eb) => eb.fn.min('queue_due_at').as('at'))
    .where('queue_due_at', '>', now),
);

/** When the next channel comes due after `now` (a quiet interval, a backoff, a lease end). */
export async function nextDueAt(db: Db, now: number): Promise<number | null> {
  const { rows } = await earliestDueAfter(db, now);
  const at = rows[0]?.at;
  return at === null || at === undefined ? null : Number(at);
}

const secretsOf = prepared((db, clientIds: string[]) =>
  db
    .selectFrom('client_secrets')
    .select(['client_id', 'secret'])
    .where('client_id', 'in', clientIds)
    .orderBy('id'),
);

async function secretsByClient(
  trx: Executor,
  clientIds: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const ids of chunks(clientIds)) {
    const { rows } = await secretsOf(trx, padToPowerOfTwo(ids));
    for (const row of rows) {
      const list = out.get(row.client_id) ?? [];
      list.push(row.secret);
      out.set(row.client_id, list);
    }
  }
  return out;
}

const insertAttempts = prepared((db, rows: Insertable<AttemptsTable>[]) =>
  db.insertInto('attempts').values(rows),
);

/**
 * Marks delivered the heads whose channels still hold the lease their claim took (see
 * `recordCompletions`). The channel is looked up by its primary key for each row: cheaper
 * than asking the release that follows which channels it freed (RETURNING).
 */
const markDelivered = prepared((db, notificationIds: number[], now: number, leaseUntil: number) =>
  db
    .updateTable('notifications')
    .set({ state: 'delivered', delivered_at: now, attempts: sql`attempts + 1` })
    .where('id', 'in', notificationIds)
    .where(liveState)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('channels as c')
          .select(sql.lit(1).as('held'))
          .whereRef('c.id', '=', 'notifications.channel_id')
          .where('c.lease_until', '=', leaseUntil)
          .where('c.state', '=', ACTIVE),
      ),
    ),
);

/**
 * Frees channels whose head was delivered, under the lease their claim took. The channel
 * stays quiet until `quietUntil`: what was queued meanwhile, and what comes before then,
 * goes out as one notification at that time.
 */
const releaseDelivered = prepared(
  (db, channelIds: string[], leaseUntil: number, quietUntil: number) =>
    db
      .updateTable('channels')
      .set({
        failing_since: null,
        lease_until: null,
        sending_id: null,
        quiet_until: quietUntil,
        queue_due_at: headDueNotBefore(quietUntil),
      })
      .where('id', 'in', channelIds)
      .where('state', '=', ACTIVE)
      .where('lease_until', '=', leaseUntil),
);

/**
 * Writes a batch of finished attempts and their effect on the queue in one transaction. A
 * channel that was delivered to is not sent its next notification before `now + quietMs`.
 */
export async function recordCompletions(
  db: Db,
  completions: readonly Completion[],
  now: number,
  quietMs = 0,
): Promise<void> {
  if (completions.length === 0) return;
  await inTransaction(db, async (trx) => {
    await lockChannels(trx, [...new Set(completions.map((c) => c.delivery.channel.id))].sort());
    for (const batch of insertRuns(trx, completions, 128)) {
      await insertAttempts(
        trx,
        batch.map((c) => ({
          notification_id: c.delivery.notificationId,
          channel_id: c.delivery.channel.id,
          at: c.attempt.at,
          status: c.attempt.status,
          error: c.attempt.error,
          latency_ms: Math.round(c.attempt.latencyMs),
          decision: c.kind,
        })),
      );
    }
    // An outcome changes the queue only under the lease its claim took. One that comes after
    // its lease ran out and another claim took the channel over (a stalled process) is
    // recorded as an attempt and nothing more: the head it sent, and any change queued
    // behind it, now belong to the new holder.
    const delivered = completions.filter((c) => c.kind === 'delivered');
    for (const batch of chunks(delivered)) {
      for (const [leaseUntil, leased] of byLease(batch, (c) => c.delivery.leaseUntil)) {
        // The head first: the release then finds the channel's next notification.
        await markDelivered(
          trx,
          padToPowerOfTwo(leased.map((c) => c.delivery.notificationId)),
          now,
          leaseUntil,
        );
        await releaseDelivered(
          trx,
          padToPowerOfTwo(leased.map((c) => c.delivery.channel.id)),
          leaseUntil,
          now + quietMs,
        );
      }
    }
    for (const c of completions) {
      if (c.kind !== 'retry') continue;
      // The head is the channel's oldest queued notification, so it is next again, at its
      // retry time.
      const released = await trx
        .updateTable('channels')
        .set({
          lease_until: null,
          sending_id: null,
          failing_since: c.failingSince,
          queue_due_at: c.retryAt,
        })
        .where('id', '=', c.delivery.channel.id)
        .where('state', '=', ACTIVE)
        .where('lease_until', '=', c.delivery.leaseUntil)
        .executeTakeFirst();
      if (Number(released.numUpdatedRows) === 0) continue;
      // A change queued while this one was on the wire merges into it: the older row's
      // earlier changes_since (or lower message number) already covers it.
      await trx
        .deleteFrom('notifications')
        .where('channel_id', '=', c.delivery.channel.id)
        .where('kind', '=', c.delivery.kind)
        .where('state', '=', PENDING)
        .where('id', '<>', c.delivery.notificationId)
        .execute();
      await trx
        .updateTable('notifications')
        .set({ state: 'pending', due_at: c.retryAt, attempts: sql`attempts + 1` })
        .where('id', '=', c.delivery.notificationId)
        .where(liveState)
        .execute();
    }
    const closing = completions.filter((c) => c.kind === 'close');
    for (const [leaseUntil, leased] of byLease(closing, (c) => c.delivery.leaseUntil)) {
      for (const c of await stillHeld(trx, leased, leaseUntil, (c) => c.delivery.channel.id)) {
        await closeChannels(trx, [c.delivery.channel.id], c.reason, now);
      }
    }
  });
}

/** Of items claimed under `leaseUntil`, those whose channel still holds that lease. */
async function stillHeld<T>(
  trx: Executor,
  items: readonly T[],
  leaseUntil: number,
  channelOf: (item: T) => string,
): Promise<T[]> {
  const held = await trx
    .selectFrom('channels')
    .select('id')
    .where('id', 'in', items.map(channelOf))
    .where('lease_until', '=', leaseUntil)
    .execute();
  const ids = new Set(held.map((r) => r.id));
  return items.filter((item) => ids.has(channelOf(item)));
}

/**
 * Items grouped by the lease their claim took: a channel is released only by the holder of
 * its current lease, never by a send whose lease ran out and was taken over.
 */
function byLease<T>(items: readonly T[], leaseOf: (item: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const group = groups.get(leaseOf(item)) ?? [];
    group.push(item);
    groups.set(leaseOf(item), group);
  }
  return groups;
}

/**
 * Puts heads that were claimed but not sent back in the queue. A change queued behind one in
 * the meantime merges into it, as after a failed attempt. With no ids, every head that was
 * set aside for such a change (heads nothing queued behind are still pending).
 */
async function requeueSending(trx: Executor, notificationIds?: readonly number[]): Promise<void> {
  // Driven from the heads going back, so only their channels' queues are read.
  let sending = trx
    .selectFrom('notifications')
    .select(['channel_id', 'kind'])
    .where(liveState)
    .where('state', '=', SENDING);
  if (notificationIds) sending = sending.where('id', 'in', [...notificationIds]);
  const merged = trx
    .deleteFrom('notifications')
    .where('state', '=', PENDING)
    .where((eb) =>
      eb(eb.refTuple('channel_id', 'kind'), 'in', sending.$asTuple('channel_id', 'kind')),
    );
  let requeue = trx
    .updateTable('notifications')
    .set({ state: 'pending' })
    .where(liveState)
    .where('state', '=', SENDING);
  if (notificationIds) requeue = requeue.where('id', 'in', [...notificationIds]);
  await merged.execute();
  await requeue.execute();
}

/**
 * Hands back claims the dispatcher cannot send now (their origin has no free slot): the
 * channels are free to be claimed again at once, and no claimed work waits in memory where a
 * close could not reach it or its lease could run out.
 */
export async function releaseClaims(db: Db, deliveries: readonly Delivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  await inTransaction(db, async (trx) => {
    await lockChannels(trx, [...new Set(deliveries.map((d) => d.channel.id))].sort());
    for (const batch of chunks(deliveries)) {
      for (const [leaseUntil, leased] of byLease(batch, (d) => d.leaseUntil)) {
        // Only claims still holding their lease: a channel taken over since is the new
        // holder's, with whatever was queued behind its head.
        const back = await stillHeld(trx, leased, leaseUntil, (d) => d.channel.id);
        if (back.length === 0) continue;
        await requeueSending(
          trx,
          back.map((d) => d.notificationId),
        );
        await trx
          .updateTable('channels')
          .set({ lease_until: null, sending_id: null, queue_due_at: headDueAt })
          .where(
            'id',
            'in',
            back.map((d) => d.channel.id),
          )
          .where('lease_until', '=', leaseUntil)
          .execute();
      }
    }
  });
}

/**
 * After a crash nobody holds a lease: a single-node store frees them all at start. A leased
 * channel is always due (at its lease's end), so the due index finds them: read through the
 * table, a large idle store would fill the page cache with channel rows at every start.
 */
export async function releaseAllLeases(db: Db): Promise<void> {
  await inTransaction(db, async (trx) => {
    await requeueSending(trx);
    await trx
      .updateTable('channels')
      .set({ lease_until: null, sending_id: null, queue_due_at: headDueAt })
      .where('queue_due_at', 'is not', null)
      .where('lease_until', 'is not', null)
      .execute();
  });
}
