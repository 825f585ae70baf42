/**
 * Bench data is written with the project's own store code before the server child starts:
 * core calls (createClient, createAccount, createCronofyChannel, recordChange) where they fit,
 * and plain inserts into the channels table for set-ups the Cronofy face forbids (more than
 * 128 channels per account) or that would take minutes one request at a time.
 */
import type { Store } from '../src/store/store.ts';
import type { CoreResources } from '../src/core/resources.ts';
import type { ChannelsTable } from '../src/store/schema.ts';
import type { CronofyInterest } from '../src/faces/cronofy/interest.ts';
import type { GraphInterest } from '../src/faces/graph/interest.ts';
import { openStore } from '../src/store/store.ts';
import { separateWrites } from '../src/store/write-batcher.ts';
import type { Write } from '../src/store/write-batcher.ts';
import { systemClock } from '../src/domain/clock.ts';
import { loadTokenSealer } from '../src/core/token-sealer.ts';
import { createClient } from '../src/core/clients.ts';
import { createAccount } from '../src/core/accounts.ts';
import { recordChange } from '../src/core/change-log.ts';
import { chunks } from '../src/store/list-lengths.ts';
import { activeChannelRow } from '../src/core/channels.ts';
import { createCronofyChannel } from '../src/faces/cronofy/channels.ts';
import { dialectsByName } from '../src/service.ts';
import type { SecretBox } from '../src/core/secret-box.ts';
import { createSecretBox } from '../src/core/secret-box.ts';
import { loadSecretKeys } from '../src/core/secret-keys.ts';
import { addSourceCalendar } from '../src/core/sources.ts';
import type { RemoteCalendar } from '../src/domain/source.ts';

export interface BenchStore {
  readonly store: Store;
  readonly core: CoreResources;
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * The secrets of a bench data directory, sealed under its key file: the server the bench
 * starts on that directory opens them with the same key.
 */
export function benchSecrets(dataDir: string): SecretBox {
  return createSecretBox(loadSecretKeys(undefined, dataDir).keys);
}

/** The core over a bench store, writing through `write`; nothing is delivered from it. */
export async function benchCore(
  store: Store,
  write: Write,
  secrets: SecretBox,
): Promise<CoreResources> {
  return {
    db: store.db,
    write,
    clock: systemClock,
    dialects: dialectsByName(),
    dev: true,
    publicUrl: 'http://127.0.0.1',
    tokens: await loadTokenSealer(store.db, secrets),
    secrets,
    notifyQueued: () => {},
    notifyClosed: () => {},
    // The bench mirrors no source.
    sources: {
      providers: new Map(),
      minIntervalMs: 30_000,
      plainHttpAllowed: () => true,
      wake: () => {},
    },
  };
}

/** The bench's store under `dataDir`, or in the PostgreSQL database `databaseUrl` names. */
export async function openBenchStore(dataDir: string, databaseUrl?: string): Promise<BenchStore> {
  const secrets = benchSecrets(dataDir);
  const store = await openStore({ dataDir, databaseUrl, sealer: secrets });
  const core = await benchCore(store, separateWrites(store.db), secrets);
  const { clientId, clientSecret } = await createClient(core, 'bench');
  return { store, core, clientId, clientSecret };
}

export interface WatchedAccount {
  readonly accountId: string;
  readonly calendarId: string;
  readonly token: string;
}

/**
 * Accounts created through the core, each watched by `channelsPerAccount` Cronofy channels on
 * all its calendars; `callbackUrl` names each channel's endpoint by account and channel.
 */
export async function createWatchedAccounts(
  b: BenchStore,
  opts: {
    readonly accounts: number;
    readonly channelsPerAccount: number;
    readonly tag: string;
    readonly callbackUrl: (account: number, channel: number) => string;
  },
): Promise<WatchedAccount[]> {
  const out: WatchedAccount[] = [];
  for (let i = 0; i < opts.accounts; i++) {
    const acc = await createAccount(b.core, {
      clientId: b.clientId,
      email: `${opts.tag}${i}@bench.invalid`,
    });
    for (let c = 0; c < opts.channelsPerAccount; c++) {
      await createCronofyChannel(b.core, {
        accountId: acc.accountId,
        clientId: b.clientId,
        callbackUrl: opts.callbackUrl(i, c),
        calendarIds: null,
        onlyManaged: false,
      });
    }
    out.push({ accountId: acc.accountId, calendarId: acc.calendarId, token: acc.accessToken });
  }
  return out;
}

/** Bare accounts (no token, profile or calendar): enough for channels and change-log rows. */
export async function insertAccounts(b: BenchStore, n: number, tag: string): Promise<string[]> {
  const now = Date.now();
  const ids = Array.from({ length: n }, (_, i) => `acc_${tag}${i}`);
  await b.store.db.transaction().execute(async (trx) => {
    for (const batch of chunks(ids, 1000)) {
      await trx
        .insertInto('accounts')
        .values(
          batch.map((id) => ({
            id,
            client_id: b.clientId,
            email: `${id}@bench.invalid`,
            name: id,
            time_zone: 'Etc/UTC',
            created_at: now,
          })),
        )
        .execute();
    }
  });
  return ids;
}

export interface ChannelSpec {
  readonly accountId: string;
  readonly callbackUrl: string;
  readonly calendarIds?: readonly string[] | null;
}

/** Channel rows written straight into the channels table, ids `{prefix}{tag}{n}`, in batches. */
async function insertChannelRows(
  b: BenchStore,
  specs: readonly ChannelSpec[],
  idPrefix: string,
  rowOf: (spec: ChannelSpec, id: string) => ChannelsTable,
): Promise<string[]> {
  const ids: string[] = [];
  await b.store.db.transaction().execute(async (trx) => {
    for (const batch of chunks(specs, 1000)) {
      const rows = batch.map((s) => {
        const id = `${idPrefix}${ids.length}`;
        ids.push(id);
        return rowOf(s, id);
      });
      await trx.insertInto('channels').values(rows).execute();
    }
  });
  return ids;
}

/** Active Cronofy channels written straight into the channels table (no verification sent). */
export async function insertChannels(
  b: BenchStore,
  specs: readonly ChannelSpec[],
  tag: string,
): Promise<string[]> {
  const now = Date.now();
  return insertChannelRows(b, specs, `chn_${tag}`, (s, id) => {
    const interest: CronofyInterest = {
      dialect: 'cronofy',
      calendarIds: s.calendarIds ?? null,
      onlyManaged: false,
    };
    return activeChannelRow({
      id,
      clientId: b.clientId,
      accountId: s.accountId,
      dialect: 'cronofy',
      publicId: id,
      callbackUrl: s.callbackUrl,
      interest,
      requestKey: JSON.stringify([s.callbackUrl, s.calendarIds ?? null, false]),
      now,
    });
  });
}

/**
 * Graph subscriptions to every event of their accounts, inserted as the Graph face stores
 * them (the validation handshake is the face's, before a row exists; it is not measured).
 */
export async function insertGraphSubscriptions(
  b: BenchStore,
  specs: readonly ChannelSpec[],
  tag: string,
): Promise<string[]> {
  const now = Date.now();
  return insertChannelRows(b, specs, `sub_${tag}`, (s, id) => {
    const interest: GraphInterest = {
      dialect: 'graph',
      resource: 'me/events',
      accountId: s.accountId,
      calendarId: null,
      changeTypes: ['created', 'updated', 'deleted'],
      lifecycleUrl: null,
      tlsVersion: 'v1_2',
    };
    return activeChannelRow({
      id,
      clientId: b.clientId,
      accountId: s.accountId,
      dialect: 'graph',
      publicId: id,
      callbackUrl: s.callbackUrl,
      interest,
      // Sealed as the face seals a subscription's clientState.
      sealedToken: b.core.secrets.seal('bench-client-state'),
      expiresAt: now + 3 * 86_400_000,
      now,
    });
  });
}

/** One event change per account through the core's change log (which fills the outbox). */
export async function recordChanges(b: BenchStore, accountIds: readonly string[]): Promise<void> {
  await b.store.db.transaction().execute(async (trx) => {
    for (const accountId of accountIds) {
      await recordChange(
        trx,
        b.core.dialects,
        {
          accountId,
          resource: 'event',
          calendarId: `cal_${accountId}`,
          resourceId: `evt_${accountId}`,
          managed: true,
        },
        Date.now(),
      );
    }
  });
}

export interface SourceSpec {
  readonly accountId: string;
  readonly provider: string;
  readonly url: string;
  readonly username: string | null;
  /** Sealed under the key the server will be given. */
  readonly sealedPassword: string | null;
  readonly pollIntervalMs: number;
  readonly nextPollAt: number;
  /** The provider's own cursor, as its last poll returned it. */
  readonly cursor: unknown;
  /** The source's one calendar, with the cursor its last poll stored. */
  readonly calendar: RemoteCalendar;
  readonly calendarCursor: unknown;
}

/**
 * Sources as `connectSource` and a completed first sync leave them (state `connected`, the
 * stored cursors), without the connection check and first read against upstream, which
 * would take minutes for thousands: a profile and a source row per spec, and the calendar
 * made by the core's own `addSourceCalendar` (calendar row, change-log entry), then given
 * its cursor. Nothing is imported into it: an idle poll never reads the stored items.
 */
export async function insertSources(
  b: BenchStore,
  specs: readonly SourceSpec[],
  tag: string,
): Promise<string[]> {
  const now = Date.now();
  const ids: string[] = [];
  await b.store.db.transaction().execute(async (trx) => {
    let n = 0;
    for (const batch of chunks(specs, 500)) {
      const rows = batch.map((s) => {
        const i = n++;
        return { spec: s, id: `src_${tag}${i}`, profileId: `pro_${tag}${i}` };
      });
      await trx
        .insertInto('profiles')
        .values(
          rows.map(({ spec, profileId }) => ({
            id: profileId,
            account_id: spec.accountId,
            provider_name: spec.provider,
            name: spec.calendar.name,
            connected: 1,
            created_at: now,
          })),
        )
        .execute();
      await trx
        .insertInto('sources')
        .values(
          rows.map(({ spec, id, profileId }) => ({
            id,
            account_id: spec.accountId,
            profile_id: profileId,
            provider: spec.provider,
            name: spec.calendar.name,
            url: spec.url,
            host: new URL(spec.url).host,
            username: spec.username,
            sealed_password: spec.sealedPassword,
            state: 'connected',
            poll_interval_ms: spec.pollIntervalMs,
            next_poll_at: spec.nextPollAt,
            lease_until: null,
            failures: 0,
            cursor_json: JSON.stringify(spec.cursor ?? null),
            last_polled_at: now - spec.pollIntervalMs,
            last_changed_at: null,
            last_error: null,
            // A first sync already completed: its polls are the idle ones measured here.
            synced_at: now - spec.pollIntervalMs,
            created_at: now - spec.pollIntervalMs,
          })),
        )
        .execute();
      for (const { spec, id, profileId } of rows) {
        const source = { id, accountId: spec.accountId, profileId };
        const calendarId = await addSourceCalendar(
          b.core,
          trx,
          source,
          spec.calendar,
          'Etc/UTC',
          now,
        );
        await trx
          .updateTable('source_calendars')
          .set({ cursor_json: JSON.stringify(spec.calendarCursor ?? null) })
          .where('calendar_id', '=', calendarId)
          .execute();
        ids.push(id);
      }
    }
  });
  return ids;
}
