import type { CoreResources } from './resources.ts';
import type { Executor, SourcesTable } from '../store/schema.ts';
import type { KnownCalendar, PollResult, SourceCredentials, SourceItem } from '../domain/source.ts';
import type { ProfileEvent } from '../domain/change.ts';
import { recordChange } from './change-log.ts';
import { mirrorItems, removeEventsByUid } from './source-events.ts';
import { addSourceCalendar, removeSourceCalendar, renameSourceCalendar } from './sources.ts';
import { chunks } from '../store/list-lengths.ts';

/** A source leased for one poll: what its provider needs, and the lease its outcome needs. */
export interface LeasedSource {
  readonly id: string;
  readonly accountId: string;
  readonly profileId: string;
  readonly provider: string;
  readonly url: string;
  readonly credentials: SourceCredentials | null;
  readonly cursor: unknown;
  readonly calendars: readonly KnownCalendar[];
  readonly state: string;
  readonly pollIntervalMs: number;
  readonly failures: number;
  readonly leaseUntil: number;
}

/**
 * Leases up to `limit` due sources for one poll each. On a store several nodes share, the
 * rows are locked as they are taken (SKIP LOCKED), so no two nodes poll one source at once.
 */
export async function leaseDueSources(
  res: CoreResources,
  opts: { now: number; limit: number; leaseMs: number; lockRows: boolean },
): Promise<LeasedSource[]> {
  const leaseUntil = opts.now + opts.leaseMs;
  const rows = await res.write(async (trx) => {
    let due = trx
      .selectFrom('sources')
      .select('id')
      .where('next_poll_at', '<=', opts.now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', opts.now)]))
      .orderBy('next_poll_at')
      .limit(opts.limit);
    if (opts.lockRows) due = due.forUpdate().skipLocked();
    const ids = (await due.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    await trx
      .updateTable('sources')
      .set({ lease_until: leaseUntil })
      .where('id', 'in', ids)
      .execute();
    return trx.selectFrom('sources').selectAll().where('id', 'in', ids).execute();
  });
  const leased: LeasedSource[] = [];
  for (const row of rows) leased.push(await leasedView(res, row, leaseUntil));
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
    accountId: row.account_id,
    profileId: row.profile_id,
    provider: row.provider,
    url: row.url,
    credentials:
      row.sealed_password === null
        ? null
        : { username: row.username ?? '', password: res.sources.box.open(row.sealed_password) },
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
  };
}

async function itemVersions(db: Executor, calendarId: string): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('source_items')
    .select(['item_key', 'version'])
    .where('calendar_id', '=', calendarId)
    .execute();
  return new Map(rows.map((r) => [r.item_key, r.version]));
}

/** The source row, if this poll's lease on it still holds (not removed, not taken over). */
async function stillLeased(trx: Executor, source: LeasedSource) {
  return trx
    .selectFrom('sources')
    .selectAll()
    .where('id', '=', source.id)
    .where('lease_until', '=', source.leaseUntil)
    .executeTakeFirst();
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
      (
        await trx
          .selectFrom('calendars')
          .select(['id', 'name', 'color'])
          .where('profile_id', '=', source.profileId)
          .where('deleted', '=', 0)
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
    firstSync = row.state === 'initial_sync';
    await trx
      .updateTable('sources')
      .set({
        state: 'connected',
        cursor_json: JSON.stringify(result.cursor ?? null),
        lease_until: null,
        next_poll_at: nextPollAt,
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
  const previous = new Map<string, string[]>();
  for (const batch of chunks(keys)) {
    const rows = await trx
      .selectFrom('source_items')
      .select(['item_key', 'event_uids_json'])
      .where('calendar_id', '=', calendarId)
      .where('item_key', 'in', batch)
      .execute();
    for (const r of rows) previous.set(r.item_key, JSON.parse(r.event_uids_json) as string[]);
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
  const { uidsByItem, changed } = await mirrorItems(trx, target, changes.changed, previous);
  const removedUids = changes.removed.flatMap((key) => previous.get(key) ?? []);
  const removed = await removeEventsByUid(trx, target, removedUids);
  for (const batch of chunks(changes.removed)) {
    await trx
      .deleteFrom('source_items')
      .where('calendar_id', '=', calendarId)
      .where('item_key', 'in', batch)
      .execute();
  }
  await storeItems(trx, calendarId, changes.changed, uidsByItem);
  return changed + removed;
}

async function storeItems(
  trx: Executor,
  calendarId: string,
  items: readonly SourceItem[],
  uidsByItem: ReadonlyMap<string, readonly string[]>,
): Promise<void> {
  for (const batch of chunks(items, 200)) {
    await trx
      .insertInto('source_items')
      .values(
        batch.map((item) => ({
          calendar_id: calendarId,
          item_key: item.key,
          version: item.version,
          event_uids_json: JSON.stringify(uidsByItem.get(item.key) ?? []),
        })),
      )
      .onConflict((oc) =>
        oc.columns(['calendar_id', 'item_key']).doUpdateSet((eb) => ({
          version: eb.ref('excluded.version'),
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
        state: failure.disconnect
          ? 'disconnected'
          : row.state === 'initial_sync'
            ? 'initial_sync'
            : 'failing',
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
