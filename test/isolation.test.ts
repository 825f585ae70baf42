import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from './support/harness.ts';
import { addAccount, createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { touchEvent } from './support/events.ts';

let h: Harness;
let healthy: Receiver;
let dead: Receiver;

before(async () => {
  healthy = await Receiver.start();
  dead = await Receiver.start();
  dead.reply = 'hang';
  // A narrow per-origin bound makes the dead endpoint saturate its share at once.
  h = await startHarness({ start: true, env: { CALPUSH_MAX_IN_FLIGHT_PER_ORIGIN: '8' } });
});
after(async () => {
  await dead.close();
  await h.close();
  await healthy.close();
});

test('an endpoint that never answers does not hold up other channels', async () => {
  const owner = await createTestAccount(h.service, 'dead@example.com');
  for (let i = 0; i < 100; i++) {
    await watchAccount(h.service, owner, `${dead.url}/d/${i}`);
  }
  await dead.waitForCount(8);

  const user = await addAccount(h.service, owner.clientId, 'alive@example.com');
  const channels = 20;
  for (let i = 0; i < channels; i++) {
    await watchAccount(h.service, user, `${healthy.url}/h/${i}`);
  }
  for (let round = 0; round < 5; round++) {
    await touchEvent(h.service, user, `e${round}`);
    // Each round is delivered to every healthy channel before the next change is made.
    await healthy.waitFor(
      (r) => r.filter((x) => x.body.includes('"change"')).length >= channels * (round + 1),
    );
  }
  // Every healthy round completed while not one request to the dead endpoint has finished
  // (they are all still waiting for their timeout): nothing waited behind them.
  const deadAttempts = await h.service.store.db
    .selectFrom('attempts')
    .innerJoin('channels', 'channels.id', 'attempts.channel_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('channels.account_id', '=', owner.accountId)
    .executeTakeFirstOrThrow();
  assert.equal(Number(deadAttempts.n), 0);
  assert.equal(dead.requests.length, 8, 'the dead origin never gets more than its bound');
});
