import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { Harness, TestAccount } from './support/harness.ts';
import { addAccount, createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { engines } from './support/postgres.ts';
import { callApi } from './support/api.ts';
import { touchEvent } from './support/events.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { createAdminToken } from '../src/core/admin-tokens.ts';

const MINUTE = 60_000;
/** A short retry window, so a failing channel closes within a test. */
const WINDOW = 10 * MINUTE;
const ADMIN_TOKEN = 'operator-token-for-tests-0001';

interface Attempt {
  notification_id: string;
  channel_id: string;
  at: string;
  kind: string;
  outcome: string;
  status: number | null;
  error: string | null;
  error_class: string | null;
  response_excerpt: string | null;
  next_retry_at: string | null;
  replay: boolean;
  test: boolean;
}
interface Page {
  attempts: Attempt[];
  pages: { next_cursor: string | null };
}

for (const engine of engines) {
  describe(`delivery log, replay and tests on ${engine}`, () => {
    let receiver: Receiver;
    let clock: ManualClock;
    let h: Harness;
    let account: TestAccount;

    before(async () => {
      receiver = await Receiver.start();
    });
    after(() => receiver.close());
    beforeEach(async () => {
      receiver.requests.length = 0;
      receiver.reply = { status: 200 };
      clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
      h = await startHarness({
        clock,
        random: () => 0.5,
        engine,
        env: { CALPUSH_MIN_INTERVAL_MS: '0', CALPUSH_ADMIN_TOKEN: ADMIN_TOKEN },
        tune: (c) => ({
          ...c,
          delivery: { ...c.delivery, retryWindowMs: WINDOW, timeoutMs: 300 },
        }),
      });
      account = await createTestAccount(h.service);
    });
    afterEach(() => h.close());

    const api = <J>(method: string, path: string, body?: unknown, token = account.accessToken) =>
      callApi<J>(h.service, token, method, path, body);
    const admin = <J>(method: string, path: string, body?: unknown) =>
      callApi<J>(h.service, ADMIN_TOKEN, method, path, body);
    const deliver = () => h.service.dispatcher.runUntilIdle();
    const idOf = (i: number) => String(receiver.requests[i]?.headers['calpush-notification-id']);

    test('records each attempt: delivered, failed with an excerpt, timed out', async () => {
      const ch = await watchAccount(h.service, account, `${receiver.url}/hook`);
      await deliver(); // the verification, delivered
      // A NUL in the answer (PostgreSQL text cannot hold one) is left out of the excerpt.
      receiver.reply = { status: 503, body: `\0${'x'.repeat(2000)}` };
      await touchEvent(h.service, account, 'e1');
      await deliver();
      receiver.reply = 'hang';
      clock.advance(MINUTE);
      await deliver();

      const { status, json } = await api<Page>('GET', `/v1/channels/${ch.id}/attempts`);
      assert.equal(status, 200);
      const [timedOut, failed, delivered] = json.attempts;
      assert.equal(json.attempts.length, 3);
      assert.equal(delivered?.outcome, 'delivered');
      assert.equal(delivered?.kind, 'verification');
      assert.equal(delivered?.error_class, null);
      assert.equal(failed?.outcome, 'retry');
      assert.equal(failed?.kind, 'change');
      assert.equal(failed?.status, 503);
      assert.equal(failed?.error_class, 'http_status');
      assert.equal(failed?.response_excerpt, 'x'.repeat(511));
      assert.ok(failed?.next_retry_at, 'a failure says when it is tried again');
      assert.equal(timedOut?.status, null);
      assert.equal(timedOut?.error_class, 'timeout');
      assert.equal(timedOut?.notification_id, failed?.notification_id);

      const health = await api<{ health: Record<string, unknown> }>(
        'GET',
        `/v1/channels/${ch.id}/health`,
      );
      assert.equal(health.status, 200);
      assert.equal(health.json.health.state, 'failing');
      assert.equal(health.json.health.failure_streak, 2);
      assert.equal(
        health.json.health.last_success_at,
        new Date(Date.UTC(2026, 11, 6, 9)).toISOString(),
      );
      assert.ok(health.json.health.closes_at, 'a failing channel says when it closes');
    });

    test('pages by cursor, filters by outcome and time', async () => {
      const ch = await watchAccount(h.service, account, `${receiver.url}/hook`);
      await deliver();
      for (let i = 0; i < 4; i++) {
        receiver.reply = { status: i % 2 === 0 ? 200 : 500 };
        clock.advance(MINUTE);
        await touchEvent(h.service, account, `e${i}`);
        await deliver();
      }
      const seen: Attempt[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const page: { json: Page } = await api<Page>(
          'GET',
          `/v1/channels/${ch.id}/attempts?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.ok(page.json.attempts.length <= 2);
        seen.push(...page.json.attempts);
        cursor = page.json.pages.next_cursor;
      }
      assert.equal(seen.length, 5);
      assert.deepEqual(
        seen.map((a) => a.at),
        [...seen.map((a) => a.at)].sort().reverse(),
        'newest first',
      );
      const failed = await api<Page>('GET', `/v1/channels/${ch.id}/attempts?outcome=failed`);
      assert.ok(failed.json.attempts.length >= 1);
      assert.ok(failed.json.attempts.every((a) => a.outcome !== 'delivered'));
      const from = new Date(Date.UTC(2026, 11, 6, 9, 2)).toISOString();
      const recent = await api<Page>('GET', `/v1/channels/${ch.id}/attempts?from=${from}`);
      assert.ok(recent.json.attempts.every((a) => a.at >= from));
      assert.ok(recent.json.attempts.length < 5);

      const bad = await api<{ errors: Record<string, unknown> }>(
        'GET',
        `/v1/channels/${ch.id}/attempts?outcome=maybe`,
      );
      assert.equal(bad.status, 422);
      assert.ok(bad.json.errors.outcome);
      const badCursor = await api('GET', `/v1/channels/${ch.id}/attempts?cursor=nonsense`);
      assert.equal(badCursor.status, 422);
    });

    test('a replay keeps the notification id and carries Calpush-Replay', async () => {
      await watchAccount(h.service, account, `${receiver.url}/hook`);
      await deliver();
      clock.advance(MINUTE);
      await touchEvent(h.service, account, 'e1');
      await deliver();
      assert.equal(receiver.requests.length, 2);
      const original = idOf(1);
      const replay = await api<{ replay: { notification_id: string; merged: boolean } }>(
        'POST',
        `/v1/notifications/${original}/replay`,
      );
      assert.equal(replay.status, 202);
      assert.equal(replay.json.replay.notification_id, original);
      await deliver();
      assert.equal(receiver.requests.length, 3);
      assert.equal(idOf(2), original);
      assert.equal(receiver.requests[2]?.headers['calpush-replay'], '1');
      assert.equal(receiver.requests[2]?.body, receiver.requests[1]?.body);
      assert.equal(receiver.requests[1]?.headers['calpush-replay'], undefined);

      const log = await api<Page>('GET', `/v1/notifications/${original}/attempts`);
      assert.equal(log.status, 200);
      assert.deepEqual(
        log.json.attempts.map((a) => [a.outcome, a.replay]),
        [
          ['delivered', true],
          ['delivered', false],
        ],
      );
    });

    test('a change queued behind a replay goes out under a new id, not as a replay', async () => {
      await watchAccount(h.service, account, `${receiver.url}/hook`);
      await deliver();
      clock.advance(MINUTE);
      await touchEvent(h.service, account, 'e1');
      await deliver();
      const original = idOf(1);
      const replay = await api('POST', `/v1/notifications/${original}/replay`);
      assert.equal(replay.status, 202);
      // The event changes again before the replay is sent: the receiver must not drop it
      // as a duplicate of the original.
      clock.advance(MINUTE);
      await touchEvent(h.service, account, 'e2');
      await deliver();
      const after = receiver.requests.slice(2);
      assert.ok(after.length >= 1);
      const fresh = after.filter((r) => r.headers['calpush-replay'] === undefined);
      assert.equal(fresh.length, 1, 'the change is sent as an ordinary notification');
      assert.notEqual(fresh[0]?.headers['calpush-notification-id'], original);
      const body = JSON.parse(fresh[0]?.body ?? '{}') as {
        notification: { changes_since: string };
      };
      const first = JSON.parse(receiver.requests[1]?.body ?? '{}') as typeof body;
      assert.ok(
        body.notification.changes_since <= first.notification.changes_since,
        'it still covers what the replay would have',
      );
      const pending = await h.service.store.db
        .selectFrom('notifications')
        .select('id')
        .where('state', 'in', ['pending', 'sending'])
        .execute();
      assert.equal(pending.length, 0);
    });

    test('a channel closed for failures is reactivated with a fresh verification, then its failures replayed', async () => {
      const ch = await watchAccount(h.service, account, `${receiver.url}/hook`);
      await deliver();
      const since = clock.now();
      receiver.reply = { status: 500 };
      await touchEvent(h.service, account, 'lost');
      await deliver();
      while (clock.now() - since < WINDOW + MINUTE) {
        clock.advance(MINUTE);
        await deliver();
      }
      const closed = await api<{ health: { state: string; closed_reason: string } }>(
        'GET',
        `/v1/channels/${ch.id}/health`,
      );
      assert.equal(closed.json.health.state, 'closed');
      const early = await api('POST', `/v1/channels/${ch.id}/replay`, {
        since: new Date(since).toISOString(),
      });
      assert.equal(early.status, 422, 'a closed channel must be reactivated first');

      receiver.reply = { status: 200 };
      const before = receiver.requests.length;
      const reactivated = await api<{ health: { state: string } }>(
        'POST',
        `/v1/channels/${ch.id}/reactivate`,
      );
      assert.equal(reactivated.status, 202);
      assert.equal(reactivated.json.health.state, 'active');
      await deliver();
      assert.equal(receiver.requests.length, before + 1);
      assert.equal(receiver.notificationTypes()[before], 'verification');

      const lost = idOf(1);
      const replayed = await api<{ replayed: { notification_id: string }[] }>(
        'POST',
        `/v1/channels/${ch.id}/replay`,
        { since: new Date(since).toISOString() },
      );
      assert.equal(replayed.status, 202);
      assert.deepEqual(
        replayed.json.replayed.map((r) => r.notification_id),
        [lost],
      );
      clock.advance(MINUTE);
      await deliver();
      const last = receiver.requests.at(-1);
      assert.equal(last?.headers['calpush-notification-id'], lost);
      assert.equal(last?.headers['calpush-replay'], '1');
      const again = await api('POST', `/v1/channels/${ch.id}/reactivate`);
      assert.equal(again.status, 422, 'an active channel is not reactivated');
    });

    test('a test notification is sent now, signed with the client secret', async () => {
      const ch = await watchAccount(h.service, account, `${receiver.url}/hook`);
      await deliver();
      const sent = await api<{ test: { notification_id: string } }>(
        'POST',
        `/v1/channels/${ch.id}/test`,
      );
      assert.equal(sent.status, 202);
      await deliver();
      const req = receiver.requests.at(-1);
      assert.equal(req?.headers['calpush-test'], '1');
      assert.equal(req?.headers['calpush-notification-id'], sent.json.test.notification_id);
      const expected = createHmac('sha256', account.clientSecret)
        .update(req?.body ?? '')
        .digest('base64');
      assert.equal(req?.headers['cronofy-hmac-sha256'], expected);
      const log = await api<Page>(
        'GET',
        `/v1/notifications/${sent.json.test.notification_id}/attempts`,
      );
      assert.equal(log.json.attempts[0]?.test, true);
    });

    test('the Google face shows and replays its channels by the id the client chose', async () => {
      const watch = await api('POST', `/calendar/v3/calendars/${account.calendarId}/events/watch`, {
        id: 'my-channel',
        type: 'web_hook',
        address: `${receiver.url}/google`,
      });
      assert.equal(watch.status, 200);
      await deliver();
      const health = await api<{ kind: string; state: string; lastSuccessTime: string }>(
        'GET',
        '/calendar/v3/calpush/channels/my-channel/health',
      );
      assert.equal(health.status, 200);
      assert.equal(health.json.kind, 'calpush#channelHealth');
      assert.equal(health.json.state, 'active');
      assert.ok(health.json.lastSuccessTime);
      const log = await api<{ items: { notificationId: string; resourceState: string }[] }>(
        'GET',
        '/calendar/v3/calpush/channels/my-channel/attempts?maxResults=10',
      );
      assert.equal(log.json.items[0]?.resourceState, 'sync');
      const id = log.json.items[0]?.notificationId ?? '';
      const replay = await api('POST', `/calendar/v3/calpush/notifications/${id}/replay`);
      assert.equal(replay.status, 200);
      await deliver();
      assert.equal(receiver.requests.at(-1)?.headers['x-goog-resource-state'], 'sync');
      assert.equal(receiver.requests.at(-1)?.headers['calpush-replay'], '1');
      assert.equal(receiver.requests.at(-1)?.headers['calpush-notification-id'], id);
      const missing = await api<{ error: { code: number; errors: { reason: string }[] } }>(
        'GET',
        '/calendar/v3/calpush/channels/nobody/health',
      );
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error.errors[0]?.reason, 'notFound');
    });

    test('a Google channel the receiver called gone is reactivated with a fresh sync, and tested', async () => {
      const watch = await api('POST', `/calendar/v3/calendars/${account.calendarId}/events/watch`, {
        id: 'gone-channel',
        type: 'web_hook',
        address: `${receiver.url}/gone`,
      });
      assert.equal(watch.status, 200);
      receiver.reply = { status: 410 };
      await deliver();
      const closed = await api<{ state: string; closedReason: string }>(
        'GET',
        '/calendar/v3/calpush/channels/gone-channel/health',
      );
      assert.equal(closed.json.state, 'closed');
      assert.match(closed.json.closedReason, /410/);
      const early = await api<{ error: { errors: { reason: string }[] } }>(
        'POST',
        '/calendar/v3/calpush/channels/gone-channel/test',
      );
      assert.equal(early.status, 409);
      receiver.reply = { status: 200 };
      const reopened = await api<{ state: string }>(
        'POST',
        '/calendar/v3/calpush/channels/gone-channel/reactivate',
      );
      assert.equal(reopened.status, 200);
      assert.equal(reopened.json.state, 'active');
      await deliver();
      const sync = receiver.requests.at(-1);
      assert.equal(sync?.headers['x-goog-resource-state'], 'sync');
      assert.equal(sync?.headers['x-goog-message-number'], '1');
      const tested = await api<{ notificationId: string }>(
        'POST',
        '/calendar/v3/calpush/channels/gone-channel/test',
      );
      assert.equal(tested.status, 200);
      clock.advance(MINUTE);
      await deliver();
      assert.equal(receiver.requests.at(-1)?.headers['calpush-test'], '1');
      assert.equal(
        receiver.requests.at(-1)?.headers['calpush-notification-id'],
        tested.json.notificationId,
      );
    });

    test("one account cannot read or replay another account's channel", async () => {
      const ch = await watchAccount(h.service, account, `${receiver.url}/hook`);
      await deliver();
      const other = await addAccount(h.service, account.clientId, 'other@example.com');
      const peek = await api('GET', `/v1/channels/${ch.id}/attempts`, undefined, other.accessToken);
      assert.equal(peek.status, 403);
      const health = await api('GET', `/v1/channels/${ch.id}/health`, undefined, other.accessToken);
      assert.equal(health.status, 403);
      const replay = await api(
        'POST',
        `/v1/notifications/${idOf(0)}/replay`,
        undefined,
        other.accessToken,
      );
      assert.equal(replay.status, 403);
      const unknown = await api('GET', '/v1/notifications/ntf_999999/attempts');
      assert.equal(unknown.status, 404);
    });

    test('the admin API needs an operator token and searches by notification and host', async () => {
      const ch = await watchAccount(h.service, account, `${receiver.url}/hook`);
      await deliver();
      const none = await h.service.app.request('/admin/v1/channels');
      assert.equal(none.status, 401);
      assert.deepEqual(
        ((await none.json()) as { error: { reason: string } }).error.reason,
        'unauthorized',
      );
      const wrong = await api('GET', '/admin/v1/channels');
      assert.equal(wrong.status, 401, 'an account token is not an operator token');

      const stored = await createAdminToken(h.service.core, 'ops');
      const viaStored = await callApi(h.service, stored, 'GET', '/admin/v1/clients');
      assert.equal(viaStored.status, 200);

      const channels = await admin<{ channels: { id: string; state: string }[] }>(
        'GET',
        '/admin/v1/channels',
      );
      assert.deepEqual(
        channels.json.channels.map((c) => [c.id, c.state]),
        [[ch.id, 'active']],
      );
      const byId = await admin<{ attempts: Attempt[] }>(
        'GET',
        `/admin/v1/attempts?notification_id=${idOf(0)}`,
      );
      assert.equal(byId.json.attempts.length, 1);
      assert.equal(byId.json.attempts[0]?.notification_id, idOf(0));
      const byHost = await admin<{ attempts: Attempt[] }>(
        'GET',
        '/admin/v1/attempts?host=127.0.0.1',
      );
      assert.equal(byHost.json.attempts.length, 1);
      const elsewhere = await admin<{ attempts: Attempt[] }>(
        'GET',
        '/admin/v1/attempts?host=example.com',
      );
      assert.equal(elsewhere.json.attempts.length, 0);
      const test = await admin('POST', `/admin/v1/channels/${ch.id}/test`);
      assert.equal(test.status, 202);
      const missing = await admin<{ error: { code: number; reason: string } }>(
        'GET',
        '/admin/v1/channels/chn_nope/health',
      );
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error.code, 404);
      assert.equal(missing.json.error.reason, 'not_found');
    });
  });
}
