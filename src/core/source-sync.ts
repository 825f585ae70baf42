import type { CoreResources } from './resources.ts';
import type { Executor, SourcesTable } from '../store/schema.ts';
import type { KnownCalendar, PollResult, SourceCredentials, SourceItem } from '../domain/source.ts';
import type { ProfileEvent } from '../domain/change.ts';
import { recordChange } from './change-log.ts';
import { SourceError } from '../domain/source.ts';
import { SecretBoxError } from './secret-box.ts';
import { traitsOf } from '../store/engine-traits.ts';
import { leaseClockOf, leaseEndOn, leaseNowOn } from '../store/lease-time.ts';
import { mirrorItems, removeEventsByUid } from './source-events.ts';
import { addSourceCalendar, removeSourceCalendar, renameSourceCalendar } from './sources.ts';
import { chunks, insertRuns, padToPowerOfTwo } from '../store/list-lengths.ts';

/** A source leased for one poll: what its provider needs, and the lease its outcome needs. */
export interface LeasedSource {
  readonly id: string;
  /** The same id, under the name providers read it by. */
  readonly sourceId: string;
  readonly accountId: string;
  readonly profileId: string;
  readonly provider: string;
  readonly url: string;
  /** Polls are bounded per host (host:port). */
  readonly host: string;
  readonly credentials: SourceCredentials | null;
  readonly cursor: unknown;
  readonly calendars: readonly KnownCalendar[];
  readonly state: string;
  readonly pollIntervalMs: number;
  readonly failures: number;
  readonly leaseUntil: number;
  /** The last push when the poll was leased: a later one means the poll may be stale. */
  readonly pushedAt: number | null;
}

/**
 * Leases up to `limit` due sources for one poll each. On a store several nodes share, the
 * rows are locked as they are taken (SKIP LOCKED), so no two nodes poll one source at once.
 */
export async function leaseDueSources(
  res: CoreResources,
  opts: {
    now: number;
    limit: number;
    leaseMs: number;
    lockRows: boolean;
    /** Sources this node is polling now, whose leases it must not take again. */
    exclude?: readonly string[];
    /** Hosts at their bound here: their sources would only wait, holding leases. */
    busyHosts?: readonly string[];
  },
): Promise<LeasedSource[]> {
  const rows = await res.write(async (trx) => {
    // Stamped and judged on the engine's lease clock (see `EngineTraits.leaseClock`).
    const clock = leaseClockOf(trx);
    const leaseNow = leaseNowOn(clock, opts.now);
    const leaseEnd = leaseEndOn(clock, opts.now + opts.leaseMs, opts.leaseMs);
    let due = trx
      .selectFrom('sources')
      .select('id')
      .where('next_poll_at', '<=', opts.now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', leaseNow)]))
      .orderBy('next_poll_at')
      .limit(opts.limit);
    if (opts.busyHosts && opts.busyHosts.length > 0) {
      due = due.where('host', 'not in', padToPowerOfTwo(opts.busyHosts));
    }
    if (opts.exclude && opts.exclude.length > 0) {
      due = due.where('id', 'not in', padToPowerOfTwo(opts.exclude));
    }
    if (opts.lockRows) due = due.forUpdate().skipLocked();
    const ids = (await due.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    await trx
      .updateTable('sources')
      .set({ lease_until: leaseEnd })
      .where('id', 'in', ids)
      .execute();
    return trx.selectFrom('sources').selectAll().where('id', 'in', ids).execute();
  });
  const leased: LeasedSource[] = [];
  for (const row of rows) {
    const leaseUntil = Number(row.lease_until);
    try {
      leased.push(await leasedView(res, row, leaseUntil));
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      // Sealed under another key (a node given a different CALPUSH_SECRET_KEY, a database
      // restored without its key): said on the source, and the others are polled as usual.
      await res.write((trx) =>
        trx
          .updateTable('sources')
          .set({
            state: 'failing',
            lease_until: null,
            next_poll_at: opts.now + row.poll_interval_ms,
            last_error: `cannot read the stored password (${err.message}): PATCH the password`,
          })
          .where('id', '=', row.id)
          .where('lease_until', '=', leaseUntil)
          .execute(),
      );
    }
  }
  return leased;
}

async function leasedView(
  res: CoreResources,
  row: SourcesTable,
  leaseUntil: number,
): Promise<LeasedSource> {
  const calendars = await res.db
    .selectFrom('source_calendars')
    .select(['calendar_id', 'remote_id', 'cursor_json'])
    .where('source_id', '=', row.id)
    .execute();
  return {
    id: row.id,
    sourceId: row.id,
    accountId: row.account_id,
    profileId: row.profile_id,
    provider: row.provider,
    url: row.url,
    host: row.host,
    credentials:
      row.sealed_password === null
        ? null
        : { username: row.username ?? '', password: res.secrets.open(row.sealed_password) },
    cursor: row.cursor_json === null ? null : (JSON.parse(row.cursor_json) as unknown),
    calendars: calendars.map((c) => ({
      remoteId: c.remote_id,
      cursor: c.cursor_json === null ? null : (JSON.parse(c.cursor_json) as unknown),
      items: () => itemVersions(res.db, c.calendar_id),
    })),
    state: row.state,
    pollIntervalMs: Number(row.poll_interval_ms),
    failures: row.failures,
    leaseUntil,
    pushedAt: pushedAtOf(row),
  };
}

function pushedAtOf(row: Pick<SourcesTable, 'pushed_at'>): number | null {
  return row.pushed_at === null ? null : Number(row.pushed_at);
}

async function itemVersions(db: Executor, calendarId: string): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('source_items')
    .select(['item_key', 'version'])
    .where('calendar_id', '=', calendarId)
    .execute();
  return new Map(rows.map((r) => [r.item_key, r.version]));
}

/**
 * The source row, if this poll's lease on it still holds (not removed, not taken over, no
 * new credentials since), locked where writers run concurrently: before the account's lock,
 * as every writer of a source takes them.
 */
async function stillLeased(trx: Executor, source: LeasedSource) {
  let query = trx
    .selectFrom('sources')
    .selectAll()
    .where('id', '=', source.id)
    .where('lease_until', '=', source.leaseUntil);
  if (traitsOf(trx).concurrentWriters) query = query.forUpdate();
  return query.executeTakeFirst();
}

async function profileChange(
  res: CoreResources,
  trx: Executor,
  source: LeasedSource,
  event: ProfileEvent,
  now: number,
): Promise<void> {
  await recordChange(
    trx,
    res.dialects,
    {
      accountId: source.accountId,
      resource: 'profile',
      calendarId: null,
      resourceId: source.profileId,
      managed: false,
      profileEvent: event,
    },
    now,
  );
}

/**
 * Stores what a poll found, with the new cursors, in one transaction: a crash either keeps
 * all of it or none, so no change is skipped or repeated. Each calendar's changes are one
 * entry in the change log. A first sync that completes tells the account's channels so.
 * A poll that found nothing writes only its schedule.
 */
export async function recordPoll(
  res: CoreResources,
  source: LeasedSource,
  result: PollResult,
  now: number,
  nextPollAt: number,
): Promise<PollRecord> {
  let changed = 0;
  let firstSync = false;
  await res.write(async (trx) => {
    const row = await stillLeased(trx, source);
    if (!row) return;
    const known = await trx
      .selectFrom('source_calendars')
      .select(['calendar_id', 'remote_id'])
      .where('source_id', '=', source.id)
      .execute();
    const calendarOf = new Map(known.map((c) => [c.remote_id, c.calendar_id]));
    if (result.calendars.length === 0 && known.length > 0) {
      // Every calendar gone at once is far more often a server's glitch than a user's doing:
      // the poll fails, and what was imported stays until a poll lists calendars again.
      throw new SourceError('unavailable', 'the server listed no calendars; nothing was removed');
    }
    const upstream = new Set(result.calendars.map((c) => c.remoteId));
    for (const c of known) {
      if (upstream.has(c.remote_id)) continue;
      await removeSourceCalendar(res, trx, source.accountId, c.calendar_id, now);
      calendarOf.delete(c.remote_id);
      changed++;
    }
    const account = await trx
      .selectFrom('accounts')
      .select('time_zone')
      .where('id', '=', source.accountId)
      .executeTakeFirstOrThrow();
    const current = new Map(
      (known.length === 0
        ? []
        : await trx
            .selectFrom('calendars')
            .select(['id', 'name', 'color'])
            .where('id', 'in', padToPowerOfTwo(known.map((c) => c.calendar_id)))
            .execute()
      ).map((c) => [c.id, c]),
    );
    for (const remote of result.calendars) {
      const calendarId = calendarOf.get(remote.remoteId);
      if (calendarId === undefined) {
        calendarOf.set(
          remote.remoteId,
          await addSourceCalendar(res, trx, source, remote, account.time_zone, now),
        );
        changed++;
        continue;
      }
      const stored = current.get(calendarId);
      if (stored && (stored.name !== remote.name || stored.color !== remote.color)) {
        await renameSourceCalendar(res, trx, source.accountId, calendarId, remote, now);
        changed++;
      }
    }
    for (const changes of result.changes) {
      const calendarId = calendarOf.get(changes.remoteId);
      if (!calendarId) continue;
      changed += await recordCalendarChanges(res, trx, source, calendarId, changes, now);
      await trx
        .updateTable('source_calendars')
        .set({ cursor_json: JSON.stringify(changes.cursor ?? null) })
        .where('calendar_id', '=', calendarId)
        .execute();
    }
    firstSync = row.synced_at === null;
    // Pushed while this poll ran: what changed then may not be in its result.
    const pushedSince = pushedAtOf(row) !== source.pushedAt;
    await trx
      .updateTable('sources')
      .set({
        ...(firstSync ? { synced_at: now } : {}),
        state: 'connected',
        cursor_json: JSON.stringify(result.cursor ?? null),
        lease_until: null,
        next_poll_at: pushedSince ? Math.min(now, nextPollAt) : nextPollAt,
        failures: 0,
        last_error: null,
        last_polled_at: now,
        ...(changed > 0 ? { last_changed_at: now } : {}),
      })
      .where('id', '=', source.id)
      .execute();
    if (firstSync) await profileChange(res, trx, source, 'initial_sync_completed', now);
  });
  if (changed > 0 || firstSync) res.notifyQueued();
  return { changed, firstSync };
}

export interface PollRecord {
  /** Calendars and events the poll added, changed or removed. */
  readonly changed: number;
  /** Whether this poll completed the source's first sync. */
  readonly firstSync: boolean;
}

async function recordCalendarChanges(
  res: CoreResources,
  trx: Executor,
  source: LeasedSource,
  calendarId: string,
  changes: PollResult['changes'][number],
  now: number,
): Promise<number> {
  if (changes.changed.length === 0 && changes.removed.length === 0) return 0;
  const keys = [...changes.changed.map((i) => i.key), ...changes.removed];
  const previous = new Map<string, { uids: string[]; icalUid: string | null }>();
  for (const batch of chunks(keys)) {
    const rows = await trx
      .selectFrom('source_items')
      .select(['item_key', 'ical_uid', 'event_uids_json'])
      .where('calendar_id', '=', calendarId)
      .where('item_key', 'in', padToPowerOfTwo(batch))
      .execute();
    for (const r of rows) {
      previous.set(r.item_key, {
        uids: JSON.parse(r.event_uids_json) as string[],
        icalUid: r.ical_uid,
      });
    }
  }
  const seq = await recordChange(
    trx,
    res.dialects,
    {
      accountId: source.accountId,
      resource: 'event',
      calendarId,
      resourceId: calendarId,
      managed: false,
    },
    now,
  );
  const target = { accountId: source.accountId, calendarId, seq, now };
  const heldBefore = new Map([...previous].map(([key, p]) => [key, p.uids]));
  const { uidsByItem, changed } = await mirrorItems(trx, target, changes.changed, heldBefore);
  for (const batch of chunks(changes.removed)) {
    await trx
      .deleteFrom('source_items')
      .where('calendar_id', '=', calendarId)
      .where('item_key', 'in', padToPowerOfTwo(batch))
      .execute();
  }
  await storeItems(trx, calendarId, changes.changed, uidsByItem);
  // An object moved to another href (or seen under two for a while) keeps its UID, and so its
  // events: those of a removed item go only when no item left holds that UID.
  const removedUids: string[] = [];
  for (const key of changes.removed) {
    const gone = previous.get(key);
    if (!gone) continue;
    const held = gone.icalUid === null ? null : await heldEvents(trx, calendarId, gone.icalUid);
    removedUids.push(...gone.uids.filter((uid) => !held?.has(uid)));
  }
  const removed = await removeEventsByUid(trx, target, removedUids);
  return changed + removed;
}

/** The events the items still holding an iCalendar UID hold (a series and its overrides). */
async function heldEvents(trx: Executor, calendarId: string, icalUid: string) {
  const rows = await trx
    .selectFrom('source_items')
    .select('event_uids_json')
    .where('calendar_id', '=', calendarId)
    .where('ical_uid', '=', icalUid)
    .execute();
  return new Set(rows.flatMap((r) => JSON.parse(r.event_uids_json) as string[]));
}

async function storeItems(
  trx: Executor,
  calendarId: string,
  items: readonly SourceItem[],
  uidsByItem: ReadonlyMap<string, readonly string[]>,
): Promise<void> {
  for (const batch of insertRuns(trx, items, 128)) {
    await trx
      .insertInto('source_items')
      .values(
        batch.map((item) => ({
          calendar_id: calendarId,
          item_key: item.key,
          version: item.version,
          ical_uid: item.events[0]?.icalUid ?? null,
          event_uids_json: JSON.stringify(uidsByItem.get(item.key) ?? []),
        })),
      )
      .onConflict((oc) =>
        oc.columns(['calendar_id', 'item_key']).doUpdateSet((eb) => ({
          version: eb.ref('excluded.version'),
          ical_uid: eb.ref('excluded.ical_uid'),
          event_uids_json: eb.ref('excluded.event_uids_json'),
        })),
      )
      .execute();
  }
}

export interface PollFailure {
  /** The server refused the credentials: the source is disconnected until PATCHed. */
  readonly disconnect: boolean;
  readonly message: string;
  /** When to try again, for failures that are tried again. */
  readonly nextPollAt: number;
}

/**
 * Records a failed poll. A refused credential disconnects the source and its profile, and
 * the account's channels hear `profile_disconnected` once (a disconnected source is not
 * polled again). Any other failure makes the source `failing`, with its error, and it is
 * tried again later; what it had imported stays.
 */
export async function recordPollFailure(
  res: CoreResources,
  source: LeasedSource,
  failure: PollFailure,
  now: number,
): Promise<void> {
  await res.write(async (trx) => {
    const row = await stillLeased(trx, source);
    if (!row) return;
    await trx
      .updateTable('sources')
      .set({
        state: failure.disconnect ? 'disconnected' : 'failing',
        lease_until: null,
        next_poll_at: failure.disconnect ? null : failure.nextPollAt,
        failures: row.failures + 1,
        last_error: failure.message,
        last_polled_at: now,
      })
      .where('id', '=', source.id)
      .execute();
    if (failure.disconnect && row.state !== 'disconnected') {
      await trx
        .updateTable('profiles')
        .set({ connected: 0 })
        .where('id', '=', source.profileId)
        .execute();
      await profileChange(res, trx, source, 'disconnected', now);
    }
  });
  if (failure.disconnect) res.notifyQueued();
}

/** Hands back leases of polls that were never started, so any node may take them at once. */
export async function releaseSourceLeases(
  res: CoreResources,
  sources: readonly LeasedSource[],
): Promise<void> {
  await res.write(async (trx) => {
    for (const source of sources) {
      await trx
        .updateTable('sources')
        .set({ lease_until: null })
        .where('id', '=', source.id)
        .where('lease_until', '=', source.leaseUntil)
        .execute();
    }
  });
}

/** After a crash on a single-node store nobody holds a source lease: all are freed. */
export async function releaseAllSourceLeases(res: CoreResources): Promise<void> {
  await res.write((trx) =>
    trx
      .updateTable('sources')
      .set({ lease_until: null })
      .where('lease_until', 'is not', null)
      .execute(),
  );
}

/**
 * Moves a poll's lease `leaseMs` further out, on the engine's lease clock, while it still
 * holds: the renewed lease, or null once it no longer does.
 */
export async function renewSourceLease(
  res: CoreResources,
  source: LeasedSource,
  leaseMs: number,
  now: number,
): Promise<number | null> {
  const row = await res.write((trx) =>
    trx
      .updateTable('sources')
      .set({
        lease_until: leaseEndOn(leaseClockOf(trx), now + leaseMs, leaseMs),
      })
      .where('id', '=', source.id)
      .where('lease_until', '=', source.leaseUntil)
      .returning('lease_until')
      .executeTakeFirst(),
  );
  return row?.lease_until == null ? null : Number(row.lease_until);
}
