import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { closeChannel } from '../src/core/channels.ts';
import { upsertManagedEvent } from '../src/core/events.ts';
import {
  claimDue,
  recordCompletions,
  releaseAllLeases,
  releaseClaims,
} from '../src/store/delivery-queue.ts';
import { directConnection, inTransaction } from '../src/store/sqlite/direct-statements.ts';

let h: Harness | undefined;
afterEach(() => h?.close());

/** Indexes that hold only queued notifications: scanning one never reads the history. */
const QUEUE_INDEXES = ['notifications_live', 'notifications_coalesce'];

/**
 * A channel's life through the queue (verification, a change, a retry, a claim handed back,
 * a restart, a close), recording the text of every statement the store prepared.
 */
async function runQueueCycle() {
  const clock = new ManualClock();
  h = await startHarness({ clock });
  const db = h.service.store.db;
  const connection = await inTransaction(db, (trx) => Promise.resolve(directConnection(trx)));
  assert.ok(connection);
  const statements = new Set<string>();
  const prepare = connection.prepare.bind(connection);
  connection.prepare = (text) => {
    statements.add(text);
    return prepare(text);
  };

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
  return { connection, statements };
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

test('no statement of the cycle binds a value SQLite plans with', async () => {
  // A bare bound LIMIT, or a state compared with a bound parameter (checked against the
  // partial indexes' conditions), makes SQLite prepare the statement again at every run.
  const { statements } = await runQueueCycle();
  const replanned = [...statements].filter(
    (text) =>
      /\blimit \?(?!\s*\+)/i.test(text) ||
      /\b(where|and|or) \(?"?state"? (=|in|<>|!=) \(?\?/i.test(text),
  );
  assert.ok(statements.size >= 20, `the cycle ran (${statements.size} statements)`);
  assert.deepEqual(replanned, []);
});
