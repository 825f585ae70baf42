import type { CoreResources } from './resources.ts';
import type { Executor, SourcesTable } from '../store/schema.ts';
import type { RemoteCalendar, SourceCredentials, SourceProvider } from '../domain/source.ts';
import { SourceError } from '../domain/source.ts';
import { CoreError } from './errors.ts';
import { createHash } from 'node:crypto';
import { SecretBoxError } from './secret-box.ts';
import { digestBase32, newId } from './ids.ts';
import { recordChange } from './change-log.ts';
import { traitsOf } from '../store/engine-traits.ts';
import { removeEventsByUid } from './source-events.ts';
import { markCalendarRemoved } from './calendars.ts';

export const sourceStates = ['initial_sync', 'connected', 'failing', 'disconnected'] as const;
export type SourceState = (typeof sourceStates)[number];

export interface SourceView {
  readonly id: string;
  readonly accountId: string;
  readonly profileId: string;
  readonly provider: string;
  readonly name: string;
  readonly url: string;
  readonly state: SourceState;
  readonly pollIntervalMs: number;
  readonly lastPolledAt: number | null;
  readonly lastChangedAt: number | null;
  readonly lastError: string | null;
  /** Whether a first full sync has completed (a source may fail or disconnect before). */
  readonly synced: boolean;
  readonly calendarIds: readonly string[];
}

export interface NewSource {
  readonly accountId: string;
  readonly provider: string;
  /** Where the calendars are; a provider of one service (Google) has its own. */
  readonly url?: string | undefined;
  /** An OAuth refresh token, for a provider of one service (Google): its credential. */
  readonly refreshToken?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly name?: string | undefined;
  readonly pollIntervalSeconds?: number | undefined;
}

export interface SourcePatch {
  readonly refreshToken?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly name?: string | undefined;
  readonly pollIntervalSeconds?: number | undefined;
}

/** `webcal://` is how calendar apps link a feed: it is read over HTTPS. */
export function sourceUrl(raw: string): string {
  const url = raw.replace(/^webcals?:\/\//i, 'https://');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CoreError('invalid', 'must be an absolute http, https or webcal URL', {
      field: 'url',
    });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CoreError('invalid', 'must be an absolute http, https or webcal URL', {
      field: 'url',
    });
  }
  if (parsed.username || parsed.password) {
    throw new CoreError('invalid', 'credentials go in username and password, not the URL', {
      field: 'url',
    });
  }
  return parsed.toString();
}

function providerOf(res: CoreResources, name: string): SourceProvider {
  const provider = res.sources.providers.get(name);
  if (!provider) {
    const known = [...res.sources.providers.keys()].join(', ');
    throw new CoreError('invalid', `unknown provider ${name} (one of ${known})`, {
      field: 'provider',
    });
  }
  return provider;
}

function intervalMs(res: CoreResources, provider: SourceProvider, seconds?: number): number {
  const floor = Math.max(provider.minIntervalMs, res.sources.minIntervalMs);
  if (seconds === undefined) return Math.max(provider.defaultIntervalMs, floor);
  if (!Number.isInteger(seconds) || seconds * 1000 < floor) {
    throw new CoreError('invalid', `must be a whole number of seconds, at least ${floor / 1000}`, {
      field: 'poll_interval_seconds',
    });
  }
  return seconds * 1000;
}

/** A refused connection check, said on the request field it is about. */
export function connectError(err: unknown, provider?: SourceProvider): CoreError {
  if (!(err instanceof SourceError)) throw err;
  // A provider of one service has no URL in the request: its failures are the provider's.
  if (provider?.serviceUrl !== undefined && err.kind !== 'auth') {
    return new CoreError('invalid', `${provider.name} could not be read: ${err.message}`, {
      field: 'provider',
    });
  }
  switch (err.kind) {
    case 'auth':
      if (provider?.serviceUrl !== undefined) {
        return new CoreError('invalid', `the provider refused this refresh token: ${err.message}`, {
          field: 'refresh_token',
        });
      }
      return new CoreError('invalid', 'the server refused these credentials', {
        field: 'password',
      });
    case 'not_found':
      return new CoreError('invalid', `no calendar found at this URL: ${err.message}`, {
        field: 'url',
      });
    case 'refused':
      return new CoreError('invalid', `this address may not be reached: ${err.message}`, {
        field: 'url',
      });
    case 'malformed':
    case 'unavailable':
      return new CoreError('invalid', `the server could not be read: ${err.message}`, {
        field: 'url',
      });
  }
}

/** The password a source keeps, if it can still be read (else the client must send one). */
function storedPassword(res: CoreResources, sealed: string | null): string | undefined {
  if (sealed === null) return undefined;
  try {
    return res.secrets.open(sealed);
  } catch (err) {
    if (!(err instanceof SecretBoxError)) throw err;
    throw new CoreError('invalid', `cannot read the stored password (${err.message}): send it`, {
      field: 'password',
    });
  }
}

/** A password is not sent in clear text, unless the operator allowed that host. */
function requireSafeCredentials(
  res: CoreResources,
  url: string,
  credentials: SourceCredentials | null,
): void {
  const parsed = new URL(url);
  if (credentials && parsed.protocol === 'http:' && !res.sources.plainHttpAllowed(parsed)) {
    throw new CoreError('invalid', 'a password is only sent over https', { field: 'url' });
  }
}

/**
 * Where a new source is read and with what: the URL and password the client gave, or, for a
 * provider of one service, its own URL and the refresh token (kept as the password).
 */
function connectionOf(
  provider: SourceProvider,
  input: NewSource,
): { url: string; credentials: SourceCredentials | null } {
  if (provider.serviceUrl !== undefined) {
    if (!input.refreshToken) {
      throw new CoreError('invalid', `a ${provider.name} source needs a refresh_token`, {
        field: 'refresh_token',
      });
    }
    for (const field of ['url', 'username', 'password'] as const) {
      if (input[field] !== undefined) {
        throw new CoreError('invalid', `a ${provider.name} source takes no ${field}`, { field });
      }
    }
    return {
      url: sourceUrl(provider.serviceUrl),
      credentials: { username: '', password: input.refreshToken },
    };
  }
  if (input.refreshToken !== undefined) {
    throw new CoreError('invalid', `a ${provider.name} source takes no refresh_token`, {
      field: 'refresh_token',
    });
  }
  if (input.url === undefined) {
    throw new CoreError('invalid', `a ${provider.name} source needs a url`, { field: 'url' });
  }
  return { url: sourceUrl(input.url), credentials: credentialsOf(input.username, input.password) };
}

function credentialsOf(username?: string, password?: string): SourceCredentials | null {
  if (username === undefined && password === undefined) return null;
  return { username: username ?? '', password: password ?? '' };
}

/**
 * Connects a source: checks the connection first (a refused password or a URL where no
 * calendar can be found is a 422), then makes its profile and its calendars, read-only, and
 * schedules its first sync at once.
 */
export async function connectSource(res: CoreResources, input: NewSource): Promise<SourceView> {
  const provider = providerOf(res, input.provider);
  const { url, credentials } = connectionOf(provider, input);
  const pollIntervalMs = intervalMs(res, provider, input.pollIntervalSeconds);
  requireSafeCredentials(res, url, credentials);
  const connected = await provider.connect({ url, credentials }).catch((err: unknown) => {
    throw connectError(err, provider);
  });
  const now = res.clock.now();
  const id = newId('src');
  const profileId = newId('pro');
  // An account's first calendar is its primary one, named after the account.
  const name =
    input.name ??
    (provider.serviceUrl === undefined
      ? new URL(url).host
      : (connected.calendars[0]?.name ?? provider.name));
  await res.write(async (trx) => {
    const account = await trx
      .selectFrom('accounts')
      .select('time_zone')
      .where('id', '=', input.accountId)
      .executeTakeFirst();
    if (!account) throw new CoreError('not_found', `no account ${input.accountId}`);
    await trx
      .insertInto('profiles')
      .values({
        id: profileId,
        account_id: input.accountId,
        provider_name: provider.name,
        name,
        connected: 1,
        created_at: now,
      })
      .execute();
    await trx
      .insertInto('sources')
      .values({
        id,
        account_id: input.accountId,
        profile_id: profileId,
        provider: provider.name,
        name,
        url,
        host: new URL(url).host,
        username: credentials?.username ?? null,
        sealed_password: credentials ? res.secrets.seal(credentials.password) : null,
        state: 'initial_sync',
        poll_interval_ms: pollIntervalMs,
        next_poll_at: now,
        lease_until: null,
        failures: 0,
        cursor_json: JSON.stringify(connected.cursor ?? null),
        last_polled_at: null,
        last_changed_at: null,
        last_error: null,
        pushed_at: null,
        created_at: now,
      })
      .execute();
    const source = { id, accountId: input.accountId, profileId };
    for (const calendar of connected.calendars) {
      await addSourceCalendar(res, trx, source, calendar, account.time_zone, now);
    }
  });
  res.notifyQueued();
  res.sources.wake();
  return getSource(res, input.accountId, id);
}

interface SourceRef {
  readonly id: string;
  readonly accountId: string;
  readonly profileId: string;
}

/**
 * A mirrored calendar's id, the same whenever its source finds it: a calendar that went
 * away upstream and came back (or that a glitch hid for a poll) keeps its id, and so do its
 * events.
 */
export function sourceCalendarId(sourceId: string, remoteId: string): string {
  const digest = createHash('sha256').update(`${sourceId}\n${remoteId}`).digest();
  return `cal_${digestBase32(digest, 20)}`;
}

/** A calendar found upstream becomes a read-only calendar of the source's profile. */
export async function addSourceCalendar(
  res: CoreResources,
  trx: Executor,
  source: SourceRef,
  remote: RemoteCalendar,
  defaultTimeZone: string,
  now: number,
): Promise<string> {
  const calendarId = sourceCalendarId(source.id, remote.remoteId);
  const seq = await recordChange(
    trx,
    res.dialects,
    {
      accountId: source.accountId,
      resource: 'calendar',
      calendarId,
      resourceId: calendarId,
      managed: false,
    },
    now,
  );
  await trx
    .insertInto('calendars')
    .values({
      id: calendarId,
      account_id: source.accountId,
      profile_id: source.profileId,
      name: remote.name,
      description: null,
      location: null,
      time_zone: remote.timeZone ?? defaultTimeZone,
      color: remote.color,
      is_primary: 0,
      readonly: 1,
      deleted: 0,
      created_at: now,
      updated_at: now,
      change_seq: seq,
    })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({
        name: remote.name,
        color: remote.color,
        deleted: 0,
        updated_at: now,
        change_seq: seq,
      }),
    )
    .execute();
  await trx
    .insertInto('source_calendars')
    .values({
      calendar_id: calendarId,
      source_id: source.id,
      remote_id: remote.remoteId,
      cursor_json: null,
    })
    .execute();
  return calendarId;
}

/** A calendar renamed or recoloured upstream is here too; calendar list watchers hear of it. */
export async function renameSourceCalendar(
  res: CoreResources,
  trx: Executor,
  accountId: string,
  calendarId: string,
  remote: RemoteCalendar,
  now: number,
): Promise<void> {
  const seq = await recordChange(
    trx,
    res.dialects,
    { accountId, resource: 'calendar', calendarId, resourceId: calendarId, managed: false },
    now,
  );
  await trx
    .updateTable('calendars')
    .set({ name: remote.name, color: remote.color, updated_at: now, change_seq: seq })
    .where('id', '=', calendarId)
    .execute();
}

/**
 * A calendar gone upstream (or with its source) is deleted here, with its events; watchers
 * hear of it as of any deleted calendar.
 */
export async function removeSourceCalendar(
  res: CoreResources,
  trx: Executor,
  accountId: string,
  calendarId: string,
  now: number,
): Promise<void> {
  await markCalendarRemoved(res, trx, { accountId, calendarId, managed: false }, now);
  const live = await trx
    .selectFrom('events')
    .select('uid')
    .where('calendar_id', '=', calendarId)
    .where('deleted', '=', 0)
    .execute();
  if (live.length > 0) {
    const eventSeq = await recordChange(
      trx,
      res.dialects,
      { accountId, resource: 'event', calendarId, resourceId: calendarId, managed: false },
      now,
    );
    await removeEventsByUid(
      trx,
      { accountId, calendarId, seq: eventSeq, now },
      live.map((e) => e.uid),
    );
  }
  await trx.deleteFrom('source_items').where('calendar_id', '=', calendarId).execute();
  await trx.deleteFrom('source_calendars').where('calendar_id', '=', calendarId).execute();
}

function toView(row: SourcesTable, calendarIds: readonly string[]): SourceView {
  return {
    id: row.id,
    accountId: row.account_id,
    profileId: row.profile_id,
    provider: row.provider,
    name: row.name,
    url: row.url,
    state: row.state as SourceState,
    pollIntervalMs: Number(row.poll_interval_ms),
    lastPolledAt: row.last_polled_at === null ? null : Number(row.last_polled_at),
    lastChangedAt: row.last_changed_at === null ? null : Number(row.last_changed_at),
    lastError: row.last_error,
    synced: row.synced_at !== null,
    calendarIds,
  };
}

export async function listSources(res: CoreResources, accountId: string): Promise<SourceView[]> {
  const rows = await res.db
    .selectFrom('sources')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('created_at')
    .execute();
  const calendars = await res.db
    .selectFrom('source_calendars')
    .innerJoin('calendars', 'calendars.id', 'source_calendars.calendar_id')
    .select(['source_calendars.source_id as sourceId', 'calendars.id as calendarId'])
    .where('calendars.account_id', '=', accountId)
    .orderBy('calendars.created_at')
    .execute();
  return rows.map((row) =>
    toView(
      row,
      calendars.filter((c) => c.sourceId === row.id).map((c) => c.calendarId),
    ),
  );
}

/** A source of the account: 404 when unknown, 403 when another account's. */
export async function getSource(
  res: CoreResources,
  accountId: string,
  sourceId: string,
): Promise<SourceView> {
  const row = await ownedSource(res.db, accountId, sourceId);
  const calendars = await res.db
    .selectFrom('source_calendars')
    .innerJoin('calendars', 'calendars.id', 'source_calendars.calendar_id')
    .select('calendars.id as calendarId')
    .where('source_calendars.source_id', '=', sourceId)
    .orderBy('calendars.created_at')
    .execute();
  return toView(
    row,
    calendars.map((c) => c.calendarId),
  );
}

/** The account a source belongs to (for operators, who name a source alone). */
export async function accountOfSource(res: CoreResources, sourceId: string): Promise<string> {
  const row = await res.db
    .selectFrom('sources')
    .select('account_id')
    .where('id', '=', sourceId)
    .executeTakeFirst();
  if (!row) throw new CoreError('not_found', `no source ${sourceId}`, { field: 'source_id' });
  return row.account_id;
}

/**
 * Locked, on engines with concurrent writers: every writer of a source locks its row before
 * the account's change lock (taken by any change it records), the order polls take too.
 */
async function ownedSource(
  db: Executor,
  accountId: string,
  sourceId: string,
  options: { lock?: boolean } = {},
) {
  let query = db.selectFrom('sources').selectAll().where('id', '=', sourceId);
  if (options.lock && traitsOf(db).concurrentWriters) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new CoreError('not_found', `no source ${sourceId}`, { field: 'source_id' });
  if (row.account_id !== accountId) {
    throw new CoreError('forbidden', `source ${sourceId} belongs to another account`, {
      field: 'source_id',
    });
  }
  return row;
}

/**
 * Changes a source's name, interval or credentials. New credentials are checked against the
 * server first; a disconnected source they work for is connected again and polled at once,
 * from its stored cursors (no full resync).
 */
export async function patchSource(
  res: CoreResources,
  accountId: string,
  sourceId: string,
  patch: SourcePatch,
): Promise<SourceView> {
  const current = await ownedSource(res.db, accountId, sourceId);
  const provider = providerOf(res, current.provider);
  const pollIntervalMs =
    patch.pollIntervalSeconds === undefined
      ? undefined
      : intervalMs(res, provider, patch.pollIntervalSeconds);
  const serviceAccount = provider.serviceUrl !== undefined;
  if (serviceAccount && (patch.username !== undefined || patch.password !== undefined)) {
    throw new CoreError('invalid', `a ${provider.name} source takes a refresh_token instead`, {
      field: patch.username !== undefined ? 'username' : 'password',
    });
  }
  if (!serviceAccount && patch.refreshToken !== undefined) {
    throw new CoreError('invalid', `a ${provider.name} source takes no refresh_token`, {
      field: 'refresh_token',
    });
  }
  const newCredentials =
    patch.username !== undefined ||
    patch.password !== undefined ||
    patch.refreshToken !== undefined;
  let sealed: string | null | undefined;
  let username: string | null | undefined;
  if (newCredentials) {
    // The stored password is read only when it is kept: a new one replaces it unread, so a
    // password sealed under a lost key can still be replaced.
    const password =
      patch.refreshToken ?? patch.password ?? storedPassword(res, current.sealed_password);
    const credentials = serviceAccount
      ? { username: '', password: password ?? '' }
      : credentialsOf(patch.username ?? current.username ?? undefined, password);
    requireSafeCredentials(res, current.url, credentials);
    await provider.connect({ url: current.url, credentials }).catch((err: unknown) => {
      throw connectError(err, provider);
    });
    sealed = credentials ? res.secrets.seal(credentials.password) : null;
    username = credentials?.username ?? null;
  }
  const now = res.clock.now();
  await res.write(async (trx) => {
    const row = await ownedSource(trx, accountId, sourceId, { lock: true });
    const reconnect = newCredentials && row.state === 'disconnected';
    const changes = {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(pollIntervalMs !== undefined ? { poll_interval_ms: pollIntervalMs } : {}),
      ...(sealed !== undefined ? { sealed_password: sealed, username } : {}),
      // A poll under way read the old credentials: dropping its lease drops its outcome
      // (a 401 from it must not disconnect the source the new ones just reconnected).
      ...(newCredentials ? { next_poll_at: now, failures: 0, lease_until: null } : {}),
      ...(reconnect
        ? { state: row.synced_at === null ? 'initial_sync' : 'connected', last_error: null }
        : {}),
    };
    // An empty PATCH changes nothing (an UPDATE with nothing to set is no SQL).
    if (Object.keys(changes).length > 0) {
      await trx.updateTable('sources').set(changes).where('id', '=', sourceId).execute();
    }
    if (patch.name !== undefined) {
      await trx
        .updateTable('profiles')
        .set({ name: patch.name })
        .where('id', '=', current.profile_id)
        .execute();
    }
    if (reconnect) {
      await trx
        .updateTable('profiles')
        .set({ connected: 1 })
        .where('id', '=', current.profile_id)
        .execute();
    }
  });
  if (newCredentials) res.sources.wake();
  return getSource(res, accountId, sourceId);
}

/** Makes a source due now (a "refresh" button); a disconnected source waits for credentials. */
export async function pollSourceNow(
  res: CoreResources,
  accountId: string,
  sourceId: string,
): Promise<void> {
  const current = await ownedSource(res.db, accountId, sourceId);
  if (current.state === 'disconnected') {
    throw new CoreError(
      'invalid',
      'the source is disconnected: PATCH it with credentials that work',
      {
        field: 'source_id',
      },
    );
  }
  await res.write((trx) =>
    trx
      .updateTable('sources')
      .set({ next_poll_at: res.clock.now() })
      .where('id', '=', sourceId)
      .execute(),
  );
  res.sources.wake();
}

/**
 * Removes a source: its calendars and their events are deleted (watchers are told as for any
 * deletion), its profile goes, and a poll under way is dropped when it comes back.
 */
export async function removeSource(
  res: CoreResources,
  accountId: string,
  sourceId: string,
): Promise<void> {
  const now = res.clock.now();
  const removed = await res.write(async (trx) => {
    const current = await ownedSource(trx, accountId, sourceId, { lock: true });
    const calendars = await trx
      .selectFrom('source_calendars')
      .select('calendar_id')
      .where('source_id', '=', sourceId)
      .execute();
    for (const { calendar_id } of calendars) {
      await removeSourceCalendar(res, trx, accountId, calendar_id, now);
    }
    await trx.deleteFrom('sources').where('id', '=', sourceId).execute();
    // The profile's calendars stay (deleted) for incremental readers: the profile row stays
    // with them, marked disconnected, but no longer listed.
    await trx
      .updateTable('profiles')
      .set({ connected: 0 })
      .where('id', '=', current.profile_id)
      .execute();
    return current;
  });
  res.notifyQueued();
  await releaseUpstream(res, removed);
}

/**
 * What a removed source held upstream (Google's watch channels) is let go, once it is gone
 * here: a failure only leaves the channels to run out, their pushes answered 404.
 */
async function releaseUpstream(res: CoreResources, row: SourcesTable): Promise<void> {
  const provider = res.sources.providers.get(row.provider);
  if (!provider?.release || row.sealed_password === null) return;
  let password: string;
  try {
    password = res.secrets.open(row.sealed_password);
  } catch {
    return;
  }
  await provider.release({
    url: row.url,
    credentials: { username: row.username ?? '', password },
    cursor: row.cursor_json === null ? null : (JSON.parse(row.cursor_json) as unknown),
  });
}
