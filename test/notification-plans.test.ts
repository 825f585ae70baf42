import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:sqlite';
import type { Harness } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { closeChannel } from '../src/core/channels.ts';
import { upsertManagedEvent } from '../src/core/events.ts';
import { claimDue } from '../src/store/queue/claim.ts';
import { recordCompletions } from '../src/store/queue/complete.ts';
import { releaseAllLeases, releaseClaims } from '../src/store/queue/release.ts';
import { directConnection } from '../src/store/sqlite/direct-statements.ts';
import { inTransaction } from '../src/store/transaction.ts';

let h: Harness | undefined;
afterEach(() => h?.close());

/** Indexes that hold only queued notifications: scanning one never reads the history. */
const QUEUE_INDEXES = ['notifications_live', 'notifications_coalesce'];

/**
 * A channel's life through the queue (verification, a change, a retry, a claim handed back,
 * a restart, a close), recording the text of every statement the store prepared, and every
 * time SQLite compiled a statement again while running it (its authorizer is called at each
 * compilation: outside our own prepare or exec, that is a statement prepared again).
 */
async function runQueueCycle() {
  const clock = new ManualClock();
  h = await startHarness({ clock });
  const db = h.service.store.db;
  const connection = await inTransaction(db, (trx) => Promise.resolve(directConnection(trx)));
  assert.ok(connection);
  const statements = new Set<string>();
  const recompiled: string[] = [];
  let compiling = 0;
  /** Compilations inside our own prepare or exec are expected, not a statement prepared again. */
  const ourOwn = <T>(compile: () => T): T => {
    compiling++;
    try {
      return compile();
    } finally {
      compiling--;
    }
  };
  const prepare = connection.prepare.bind(connection);
  connection.prepare = (text) => {
    statements.add(text);
    return ourOwn(() => prepare(text));
  };
  const exec = connection.raw.exec.bind(connection.raw);
  connection.raw.exec = (text) => ourOwn(() => exec(text));
  let recording = false;
  connection.raw.setAuthorizer((action, first, second) => {
    if (recording && compiling === 0) {
      recompiled.push(`action ${action} on ${first ?? ''} ${second ?? ''}`);
    }
    return constants.SQLITE_OK;
  });
  // Setting an authorizer expires every statement already prepared (begin and commit, here):
  // their next run compiles them once more, which is not what is looked for.
  await inTransaction(db, () => Promise.resolve());
  recording = true;

  const account = await createTestAccount(h.service);
  const target = { accountId: account.accountId, calendarId: account.calendarId };
  const channel = await watchAccount(h.service, account, 'http://127.0.0.1:9/x');
  const opts = { limit: 10, leaseMs: 60_000, excludeOrigins: [] };
  const claim = () => claimDue(db, { ...opts, now: clock.now() });
  const attempt = () => ({ at: clock.now(), status: 200, error: null, latencyMs: 1 });
  const change = (id: string) =>
    upsertManagedEvent(h!.service.core, target, id, {
      summary: id,
      description: null,
      location: null,
      start: { dateTime: '2026-03-01T09:00:00Z' },
      end: { dateTime: '2026-03-01T10:00:00Z' },
    });

  // Verification delivered; a change fails and is retried; a claim goes back unsent; the
  // channel closes with work queued; a restart frees every lease.
  const [verification] = await claim();
  assert.ok(verification);
  await recordCompletions(
    db,
    [{ kind: 'delivered', delivery: verification, attempt: attempt() }],
    clock.now(),
  );
  await change('e1');
  const [failing] = await claim();
  assert.ok(failing);
  await change('e2');
  await recordCompletions(
    db,
    [
      {
        kind: 'retry',
        delivery: failing,
        attempt: attempt(),
        retryAt: clock.now(),
        failingSince: clock.now(),
      },
    ],
    clock.now(),
  );
  const [unsent] = await claim();
  assert.ok(unsent);
  await releaseClaims(db, [unsent]);
  await claim();
  await releaseAllLeases(db);
  await change('e3');
  await closeChannel(h.service.core, channel.id, 'closed by client');
  connection.raw.setAuthorizer(null);
  return { connection, statements, recompiled };
}

test('no statement of the delivery queue reads the notification history', async () => {
  const { connection, statements } = await runQueueCycle();
  const readsOfHistory: string[] = [];
  let queueStatements = 0;
  for (const text of statements) {
    if (!/notifications/.test(text) || /^\s*(create|drop|insert)/i.test(text)) continue;
    queueStatements++;
    const plan = connection.raw.prepare(`explain query plan ${text}`).all() as { detail: string }[];
    for (const { detail } of plan) {
      const onNotifications = /^(SCAN|SEARCH) (notifications|n|s)\b/.test(detail);
      const queueOnly = QUEUE_INDEXES.some(
        (index) => detail.includes(`INDEX ${index} `) || detail.endsWith(`INDEX ${index}`),
      );
      if (onNotifications && detail.startsWith('SCAN') && !queueOnly) {
        readsOfHistory.push(`${detail}\n    in ${text}`);
      }
      if (
        onNotifications &&
        detail.startsWith('SEARCH') &&
        !queueOnly &&
        !/PRIMARY KEY/.test(detail)
      ) {
        readsOfHistory.push(`${detail}\n    in ${text}`);
      }
    }
  }
  assert.ok(queueStatements >= 8, `the cycle ran the queue's statements (${queueStatements})`);
  assert.deepEqual(readsOfHistory, []);
});

test('the start-up hand-back of leases finds them through the due index, not a table scan', async () => {
  // A scan would read every channel row of a large idle store into the page cache at start.
  const { connection, statements } = await runQueueCycle();
  const handBack = [...statements].filter((text) =>
    /^update "channels" set "lease_until" = \?, "sending_id" = \?, "queue_due_at" = \(select[\s\S]*"lease_until" is not null$/.test(
      text,
    ),
  );
  assert.equal(handBack.length, 1, 'the cycle restarted once');
  const plan = connection.raw.prepare(`explain query plan ${handBack[0]!}`).all() as {
    detail: string;
  }[];
  const onChannels = plan.map((p) => p.detail).filter((d) => /^(SCAN|SEARCH) channels\b/.test(d));
  assert.deepEqual(onChannels, ['SEARCH channels USING INDEX channels_queue_due (queue_due_at>?)']);
});

test('no statement of the cycle is prepared again when it runs', async () => {
  // SQLite prepares a statement again at every run when it planned with a bound value: a
  // bare LIMIT ?, or a state compared with a parameter where a partial index has an
  // equality on it (channels' state = 'active', the coalescing index's state = 'pending').
  const { statements, recompiled } = await runQueueCycle();
  assert.ok(statements.size >= 20, `the cycle ran (${statements.size} statements)`);
  assert.deepEqual(recompiled, []);
});
