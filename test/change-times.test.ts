import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../src/domain/clock.ts';
import { startHarness, createTestAccount } from './support/harness.ts';
import { touchEvent } from './support/events.ts';

test('a change is stamped when its write runs, so times follow the order changes commit in', async () => {
  const clock = new ManualClock();
  const h = await startHarness({ clock });
  try {
    const account = await createTestAccount(h.service);
    // A write holding the store, as a busy group commit does; the upsert queues behind it.
    let release!: () => void;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const holding = h.service.core.write(
      () =>
        new Promise<void>((r) => {
          release = r;
          started();
        }),
    );
    await running;
    const asked = clock.now();
    const upsert = touchEvent(h.service, account, 'queued');
    clock.advance(5_000);
    release();
    await holding;
    const row = await upsert;

    assert.equal(row.updated_at, asked + 5_000, 'stamped when it ran, not when it was asked');
    const change = await h.service.core.db
      .selectFrom('changes')
      .select(['at'])
      .where('account_id', '=', account.accountId)
      .where('resource_id', '=', row.uid)
      .executeTakeFirstOrThrow();
    assert.equal(Number(change.at), asked + 5_000);
  } finally {
    await h.close();
  }
});
