import { sql } from 'kysely';
import type { Db, Executor } from '../schema.ts';
import { prepared } from '../prepared.ts';
import type { BatchedNotification, Delivery } from '../../domain/delivery.ts';
import type { BatchRule } from '../../domain/dialect.ts';
import { sendingIds } from '../channel-locks.ts';
import { PENDING, liveState, liveStateOf } from '../live-notifications.ts';
import { inTransaction } from '../transaction.ts';
import { boundLimit } from '../bound-limit.ts';
import { ACTIVE } from '../channel-states.ts';
import { parseStoredInterest } from '../stored-interest.ts';
import { chunks, padToPowerOfTwo } from '../list-lengths.ts';
import { traitsOf } from '../engine-traits.ts';
import { PLANNED_PER_CALL } from '../statement-marks.ts';
import { headDueAt } from './heads-and-leases.ts';
import type { LeaseClock } from '../lease-time.ts';
import { leaseClockOf, leaseEndOn, leaseNowOn } from '../lease-time.ts';
import { notificationPurposes } from '../../domain/attempt-log.ts';

export interface ClaimOptions {
  /**
   * The time leases start from; as a function, it is read once the transaction has its
   * connection, so a wait for one does not shorten the lease the node believes it holds.
   */
  readonly now: number | (() => number);
  /**
   * The node's steady clock (`monotonicNow`), read just before the claim is sent: what the
   * deliveries' `heldUntil` counts from. Without it, `now`.
   */
  readonly steadyNow?: () => number;
  /** Whose clock stamps the leases; the engine's (`EngineTraits.leaseClock`) unless said. */
  readonly leaseClock?: LeaseClock;
  readonly limit: number;
  readonly leaseMs: number;
  /** Origins already at their concurrency bound: leave their channels for later. */
  readonly excludeOrigins: readonly string[];
  /** PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent nodes claim disjoint channels. */
  readonly lockRows?: boolean;
  /** Dialects that send several of a channel's notifications per request, by name. */
  readonly batching?: ReadonlyMap<string, BatchRule>;
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
  'sealed_token',
  'expires_at',
  'failing_since',
] as const;

/** The oldest notification in a channel's queue: what a claim of the channel sends. */
const queueHead = sql<number | null>`(select min(n.id) from notifications n
  where n.channel_id = channels.id and ${liveStateOf('n')})`;

function leaseDueQuery(lockRows: boolean, clock: LeaseClock) {
  return prepared(
    (
      db,
      now: number,
      leaseUntil: number,
      leaseMs: number,
      excludeOrigins: string[],
      limit: number,
    ) => {
      // Picked by the engine's claim key: on SQLite the rowid, where by `id` each row would
      // cost one more index lookup.
      const key = sql.ref(traitsOf(db).claimKey);
      // Stamped and judged on one clock: the node's own (bound), or the database's.
      const leaseEnd = leaseEndOn(clock, leaseUntil, leaseMs);
      const leaseNow = leaseNowOn(clock, now);
      let due = db
        .selectFrom('channels')
        .select(key.as('key'))
        .where('queue_due_at', '<=', now)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', leaseNow)]))
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .where('state', '=', ACTIVE);
      if (excludeOrigins.length > 0) due = due.where('origin', 'not in', excludeOrigins);
      due = due.orderBy('queue_due_at').limit(boundLimit(limit));
      if (lockRows) due = due.forUpdate().skipLocked();
      return db
        .updateTable('channels')
        .set({ lease_until: leaseEnd, queue_due_at: leaseEnd, sending_id: queueHead })
        .where(key, 'in', due)
        .returning([...DELIVERY_COLUMNS, 'sending_id', 'lease_until'])
        .modifyEnd(sql.raw(PLANNED_PER_CALL));
    },
  );
}
const leaseQueries = new Map(
  [false, true].flatMap((lockRows) =>
    (['node', 'database'] as const).map((clock) => [
      `${lockRows}:${clock}`,
      leaseDueQuery(lockRows, clock),
    ]),
  ),
);

const liveNotificationsById = prepared((db, ids: number[]) =>
  db
    .selectFrom('notifications')
    .select([
      'id',
      'kind',
      'changes_since',
      'latest_seq',
      'attempts',
      'created_at',
      'replay_of',
      'purpose',
    ])
    .where('id', 'in', ids)
    .where(liveState),
);

/**
 * Leases up to `limit` due channels and returns the head notification of each. Claiming by
 * channel, not by notification, is what keeps one request in flight per channel and so
 * every channel's notifications in order.
 */
export async function claimDue(db: Db, opts: ClaimOptions): Promise<Delivery[]> {
  return inTransaction(db, async (trx) => {
    const now = typeof opts.now === 'function' ? opts.now() : opts.now;
    const clock = leaseClockOf(trx, opts.leaseClock);
    // Read before the statement is sent, so before the lease is stamped, on whichever clock.
    const heldUntil = (opts.steadyNow ? opts.steadyNow() : now) + opts.leaseMs;
    // One statement picks the channels, leases them and records the head each will send: a
    // set-based UPDATE … RETURNING, not a SELECT and then an UPDATE by an id list. The head's
    // row is only read, not written (see `sending_id` in the schema).
    // The lease also moves the channel's due time to the lease's end: in-flight channels leave
    // the head of the due index (no claim walks them), and one whose holder died is due again
    // exactly when its lease runs out.
    const lease = leaseQueries.get(`${opts.lockRows ?? false}:${clock}`)!;
    const { rows: channels } = await lease(
      trx,
      now,
      now + opts.leaseMs,
      opts.leaseMs,
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
    const headsRead =
      headIds.length === 0
        ? undefined
        : liveNotificationsById.sentAhead(trx, padToPowerOfTwo(headIds));
    // The clients' secrets are read with the heads, in one round trip where statements
    // pipeline: wasted only in the rare claim whose every head left the queue meanwhile.
    const secrets = headsRead
      ? await secretsByClient(trx, [...new Set(channels.map((c) => c.client_id))])
      : new Map<string, string[]>();
    const heads = headsRead ? (await headsRead).rows : [];
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
    const deliveries: Delivery[] = [];
    for (const c of channels) {
      const head = headOf(c);
      if (!head) continue;
      deliveries.push({
        notificationId: Number(head.id),
        kind: head.kind,
        changesSince: head.changes_since === null ? null : Number(head.changes_since),
        latestSeq: head.latest_seq === null ? null : Number(head.latest_seq),
        attempts: head.attempts,
        createdAt: Number(head.created_at),
        channel: {
          id: c.id,
          dialect: c.dialect,
          publicId: c.public_id,
          clientId: c.client_id,
          callbackUrl: c.callback_url,
          origin: c.origin,
          interest: parseStoredInterest(c.interest_json),
          sealedToken: c.sealed_token,
          expiresAt: c.expires_at === null ? null : Number(c.expires_at),
          failingSince: c.failing_since === null ? null : Number(c.failing_since),
        },
        sealedSecrets: secrets.get(c.client_id) ?? [],
        leaseUntil: Number(c.lease_until),
        heldUntil,
        ...(head.purpose === null ? {} : purposeOf(head.purpose, head.replay_of)),
      });
    }
    const batched = opts.batching ? await withBatches(trx, deliveries, opts.batching) : deliveries;
    // RETURNING has no order: send the oldest notifications first.
    return batched.sort((a, b) => a.notificationId - b.notificationId);
  });
}

/** A replayed or test notification's marks, as the delivery carries them. */
function purposeOf(
  purpose: string,
  replayOf: number | null,
): Pick<Delivery, 'purpose' | 'replayOf'> {
  const known = notificationPurposes.find((p) => p === purpose) ?? null;
  return { purpose: known, replayOf: replayOf === null ? null : Number(replayOf) };
}

const pendingOf = prepared((db, channelIds: string[], limit: number) =>
  db
    .selectFrom('notifications')
    .select(['id', 'channel_id', 'kind', 'changes_since', 'latest_seq', 'purpose'])
    .where('channel_id', 'in', channelIds)
    .where(liveState)
    .where('state', '=', PENDING)
    .orderBy('channel_id')
    .orderBy('id')
    .limit(boundLimit(limit)),
);

const setAside = prepared((db, ids: number[]) =>
  db.updateTable('notifications').set({ state: 'sending' }).where('id', 'in', ids).where(liveState),
);

/**
 * Adds to each delivery of a batching dialect the channel's next queued notifications. They
 * go on the wire with the head, so, like a head, they leave the coalescing index (`sending`):
 * a change meanwhile gets a row of its own rather than merging into one already sent.
 */
async function withBatches(
  trx: Executor,
  deliveries: Delivery[],
  rules: ReadonlyMap<string, BatchRule>,
): Promise<Delivery[]> {
  // A replay or test notification goes out alone: its marks (`Calpush-Replay`, the old id)
  // belong to the request, and would otherwise pass fresh changes off as its own.
  const sizeOf = (d: Delivery) => (d.purpose ? 1 : (rules.get(d.channel.dialect)?.size ?? 1));
  const batching = deliveries.filter((d) => sizeOf(d) > 1);
  if (batching.length === 0) return deliveries;
  const heads = new Set(batching.map((d) => d.notificationId));
  const headOf = new Map(batching.map((d) => [d.channel.id, d]));
  const extra = new Map<string, BatchedNotification[]>();
  for (const group of chunks(batching)) {
    const limit = group.reduce((n, d) => n + sizeOf(d), 0);
    const { rows } = await pendingOf(trx, padToPowerOfTwo(group.map((d) => d.channel.id)), limit);
    const room = new Map(group.map((d) => [d.channel.id, sizeOf(d) - 1]));
    for (const row of rows) {
      const left = room.get(row.channel_id) ?? 0;
      if (left <= 0 || heads.has(Number(row.id))) continue;
      const head = headOf.get(row.channel_id);
      const rule = head && rules.get(head.channel.dialect);
      // Stop at the first that cannot share the request: the rest keep their order behind it.
      if (
        !head ||
        !rule?.sameRequest(head.kind, row.kind) ||
        row.purpose !== null ||
        Number(row.id) < head.notificationId
      ) {
        room.set(row.channel_id, 0);
        continue;
      }
      room.set(row.channel_id, left - 1);
      const list = extra.get(row.channel_id) ?? [];
      list.push({
        notificationId: Number(row.id),
        kind: row.kind,
        changesSince: row.changes_since === null ? null : Number(row.changes_since),
        latestSeq: row.latest_seq === null ? null : Number(row.latest_seq),
      });
      extra.set(row.channel_id, list);
    }
  }
  const taken = [...extra.values()].flat().map((b) => b.notificationId);
  for (const ids of chunks(taken)) await setAside(trx, padToPowerOfTwo(ids));
  return deliveries.map((d) => {
    const batched = extra.get(d.channel.id);
    return batched ? { ...d, batched } : d;
  });
}

const earliestDueAfter = prepared((db, now: number, until: number) =>
  db
    .selectFrom('channels')
    .select((eb) => eb.fn.min('queue_due_at').as('at'))
    .where('queue_due_at', '>', now)
    .where('queue_due_at', '<=', until)
    .where('lease_until', 'is', null),
);

/**
 * When the next channel comes due after `now` and within `withinMs` (a quiet interval's
 * end, a backoff). Leased channels are left out: a lease's end only matters if its holder
 * failed, which the dispatcher's regular look covers, and the lease just taken by the claim
 * that asks would otherwise be the answer every time.
 */
export async function nextDueAt(db: Db, now: number, withinMs: number): Promise<number | null> {
  const { rows } = await earliestDueAfter(db, now, now + withinMs);
  const at = rows[0]?.at;
  return at === null || at === undefined ? null : Number(at);
}

const secretsOf = prepared((db, clientIds: string[]) =>
  db
    .selectFrom('client_secrets')
    .select(['client_id', 'sealed_secret'])
    .where('client_id', 'in', clientIds)
    .orderBy('id'),
);

/** Each client's active secrets, sealed: the delivery engine opens them when it signs. */
async function secretsByClient(
  trx: Executor,
  clientIds: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const ids of chunks(clientIds)) {
    const { rows } = await secretsOf(trx, padToPowerOfTwo(ids));
    for (const row of rows) {
      const list = out.get(row.client_id) ?? [];
      list.push(row.sealed_secret);
      out.set(row.client_id, list);
    }
  }
  return out;
}
