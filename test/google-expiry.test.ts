import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { closeExpired } from '../src/store/channel-closing.ts';

let h: Harness;
let account: TestAccount;
const clock = new ManualClock();

before(async () => {
  h = await startHarness({ clock });
  account = await createTestAccount(h.service);
});
after(async () => {
  await h.close();
});

const call = async (method: string, path: string, body?: unknown) =>
  h.service.app.request(path, {
    method,
    headers: { authorization: `Bearer ${account.accessToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

test('a channel stops by itself when its lifetime ends', async () => {
  const watched = await call('POST', '/calendar/v3/users/me/calendarList/watch', {
    id: 'short-lived',
    type: 'web_hook',
    address: 'http://127.0.0.1:9/hook',
    params: { ttl: '60' },
  });
  assert.equal(watched.status, 200);
  const { expiration } = (await watched.json()) as { expiration: string };
  assert.equal(expiration, String(clock.now() + 60_000));
  const live = (await (await call('GET', '/calendar/v3/channels')).json()) as { items: unknown[] };
  assert.equal(live.items.length, 1);

  clock.advance(60_000);
  // The dispatcher runs this sweep every second; a test triggers it on demand.
  await h.service.store.db.transaction().execute((trx) => closeExpired(trx, clock.now()));
  const after = (await (await call('GET', '/calendar/v3/channels')).json()) as { items: unknown[] };
  assert.deepEqual(after.items, []);
  const stop = await call('POST', '/calendar/v3/channels/stop', { id: 'short-lived' });
  assert.equal(stop.status, 404);
  // The id is free again once the old channel is closed.
  const again = await call('POST', '/calendar/v3/users/me/calendarList/watch', {
    id: 'short-lived',
    type: 'web_hook',
    address: 'http://127.0.0.1:9/hook',
  });
  assert.equal(again.status, 200);
});
