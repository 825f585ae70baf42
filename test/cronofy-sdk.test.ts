import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Cronofy from 'cronofy';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { engines } from './support/postgres.ts';

interface SdkError {
  statusCode: number;
  error: { entity: unknown };
}

function sdkFor(h: Harness, account: TestAccount) {
  const client = new Cronofy({
    client_id: account.clientId,
    client_secret: account.clientSecret,
    access_token: account.accessToken,
  });
  // The one change an existing integration makes: the API base URL.
  client.urls.api = h.url;
  return client;
}

async function rejection(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (err) {
    return err as SdkError;
  }
  assert.fail('expected the call to fail');
}

for (const engine of engines) {
  describe(`Cronofy face on ${engine} through the official cronofy SDK`, () => {
    let h: Harness;
    let receiver: Receiver;
    let account: TestAccount;
    let sdk: ReturnType<typeof sdkFor>;

    before(async () => {
      h = await startHarness({ listen: true, start: true, engine });
      receiver = await Receiver.start();
      account = await createTestAccount(h.service);
      sdk = sdkFor(h, account);
    });
    after(async () => {
      await h.close();
      await receiver.close();
    });

    test('a new channel is verified, then notified of an event change with a valid HMAC', async () => {
      const callback = `${receiver.url}/hook`;
      const created = (await sdk.createNotificationChannel({ callback_url: callback })) as {
        channel: { channel_id: string; callback_url: string; filters: object };
      };
      assert.match(created.channel.channel_id, /^chn_/);
      assert.equal(created.channel.callback_url, callback);
      assert.deepEqual(created.channel.filters, {});

      await receiver.waitForCount(1);
      const verification = receiver.requests[0]!;
      assert.equal(verification.headers['content-type'], 'application/json; charset=utf-8');
      assert.ok(
        sdk.hmacValid({
          hmac: verification.headers['cronofy-hmac-sha256'] as string,
          body: verification.body,
        }),
      );
      assert.deepEqual(JSON.parse(verification.body), {
        notification: { type: 'verification' },
        channel: { channel_id: created.channel.channel_id, callback_url: callback, filters: {} },
      });
      assert.match(String(verification.headers['calpush-notification-id']), /^ntf_\d+$/);

      const before = new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      await sdk.createEvent({
        calendar_id: account.calendarId,
        event_id: 'booking-1',
        summary: 'Intro call',
        description: 'Say hello',
        start: '2026-12-01T09:00:00Z',
        end: '2026-12-01T09:30:00Z',
        location: { description: 'Room 1' },
      });
      await receiver.waitForCount(2);
      const change = receiver.requests[1]!;
      const body = JSON.parse(change.body) as {
        notification: { type: string; changes_since: string };
      };
      assert.equal(body.notification.type, 'change');
      assert.match(body.notification.changes_since, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.ok(
        sdk.hmacValid({ hmac: change.headers['cronofy-hmac-sha256'] as string, body: change.body }),
      );

      const read = (await sdk.readEvents({
        tzid: 'Etc/UTC',
        from: '2026-11-30',
        to: '2026-12-02',
        include_managed: true,
        last_modified: body.notification.changes_since,
      })) as { events: { event_id: string; summary: string; location: { description: string } }[] };
      assert.equal(read.events.length, 1);
      assert.equal(read.events[0]!.event_id, 'booking-1');
      assert.equal(read.events[0]!.location.description, 'Room 1');
      assert.ok(before <= body.notification.changes_since);
    });

    test('an identical create returns the existing channel; list and close work', async () => {
      const callback = `${receiver.url}/same`;
      const a = (await sdk.createNotificationChannel({
        callback_url: callback,
        filters: { calendar_ids: [account.calendarId], only_managed: true },
      })) as { channel: { channel_id: string; filters: object } };
      const b = (await sdk.createNotificationChannel({
        callback_url: callback,
        filters: { calendar_ids: [account.calendarId], only_managed: true },
      })) as { channel: { channel_id: string } };
      assert.equal(a.channel.channel_id, b.channel.channel_id);
      assert.deepEqual(a.channel.filters, {
        calendar_ids: [account.calendarId],
        only_managed: true,
      });

      const listed = (await sdk.listNotificationChannels({})) as {
        channels: { channel_id: string }[];
      };
      assert.ok(listed.channels.some((c) => c.channel_id === a.channel.channel_id));

      await sdk.deleteNotificationChannel({ channel_id: a.channel.channel_id });
      const after = (await sdk.listNotificationChannels({})) as {
        channels: { channel_id: string }[];
      };
      assert.ok(!after.channels.some((c) => c.channel_id === a.channel.channel_id));
    });

    test('deleted events are read back with include_deleted and paging follows next_page', async () => {
      for (let i = 0; i < 30; i++) {
        await sdk.createEvent({
          calendar_id: account.calendarId,
          event_id: `bulk-${i}`,
          summary: `Bulk ${i}`,
          start: '2026-12-03',
          end: '2026-12-04',
        });
      }
      await sdk.deleteEvent({ calendar_id: account.calendarId, event_id: 'bulk-0' });
      const first = (await sdk.readEvents({
        tzid: 'Europe/Paris',
        from: '2026-12-03',
        to: '2026-12-04',
        include_managed: true,
        include_deleted: true,
      })) as {
        pages: { current: number; total: number; next_page?: string };
        events: { event_id: string; deleted: boolean; start: string }[];
      };
      assert.equal(first.pages.current, 1);
      assert.equal(first.pages.total, 2);
      assert.ok(first.pages.next_page?.startsWith(`${h.url}/v1/events/pages/`));
      assert.equal(first.events.length, 25);
      assert.equal(first.events[0]!.start, '2026-12-03');
      const second = (await sdk.readEvents({
        next_page: first.pages.next_page,
        tzid: 'Europe/Paris',
      })) as {
        pages: { current: number; next_page?: string };
        events: { event_id: string; deleted: boolean }[];
      };
      assert.equal(second.pages.current, 2);
      assert.equal(second.pages.next_page, undefined);
      const all = [...first.events, ...second.events];
      assert.equal(all.length, 30);
      assert.equal(all.find((e) => e.event_id === 'bulk-0')?.deleted, true);

      const live = (await sdk.readEvents({
        tzid: 'Etc/UTC',
        from: '2026-12-03',
        to: '2026-12-04',
        include_managed: true,
      })) as { events: unknown[]; pages: { total: number } };
      assert.equal(live.pages.total, 2);
      assert.equal(live.events.length, 25);
    });

    test('userinfo lists the profile and its calendars', async () => {
      const info = (await sdk.userInfo({})) as {
        sub: string;
        'cronofy.data': {
          profiles: { profile_id: string; profile_calendars: { calendar_id: string }[] }[];
        };
      };
      assert.equal(info.sub, account.accountId);
      const profile = info['cronofy.data'].profiles[0]!;
      assert.equal(profile.profile_id, account.profileId);
      assert.ok(profile.profile_calendars.some((c) => c.calendar_id === account.calendarId));
    });

    test('calendars can be listed and created', async () => {
      const created = (await sdk.createCalendar({
        profile_id: account.profileId,
        name: 'Bookings',
      })) as {
        calendar: { calendar_id: string; calendar_name: string };
      };
      assert.equal(created.calendar.calendar_name, 'Bookings');
      const listed = (await sdk.listCalendars({})) as {
        calendars: { calendar_id: string; calendar_primary: boolean }[];
      };
      assert.equal(listed.calendars.length, 2);
      assert.equal(listed.calendars[0]!.calendar_primary, true);
    });

    test('errors come back in Cronofy shapes', async () => {
      const bad = new Cronofy({ access_token: 'tok_wrong' });
      bad.urls.api = h.url;
      const unauthorized = await rejection(bad.listCalendars({}));
      assert.equal(unauthorized.statusCode, 401);

      const missing = await rejection(sdk.createNotificationChannel({}));
      assert.equal(missing.statusCode, 422);
      assert.deepEqual(missing.error.entity, {
        errors: { callback_url: [{ key: 'errors.required', description: 'required' }] },
      });

      const emptyFilter = await rejection(
        sdk.createNotificationChannel({
          callback_url: `${receiver.url}/x`,
          filters: { calendar_ids: [] },
        }),
      );
      assert.equal(emptyFilter.statusCode, 422);

      const noTz = await rejection(sdk.readEvents({}));
      assert.equal(noTz.statusCode, 422);
      assert.deepEqual(noTz.error.entity, {
        errors: { tzid: [{ key: 'errors.required', description: 'required' }] },
      });

      const unknownCalendar = await rejection(
        sdk.createEvent({
          calendar_id: 'cal_unknown',
          event_id: 'x',
          summary: 'x',
          start: '2026-12-01T09:00:00Z',
          end: '2026-12-01T10:00:00Z',
        }),
      );
      assert.equal(unknownCalendar.statusCode, 404);

      const badTime = await rejection(
        sdk.createEvent({
          calendar_id: account.calendarId,
          event_id: 'x',
          summary: 'x',
          start: 'tomorrow',
          end: '2026-12-01T10:00:00Z',
        }),
      );
      assert.equal(badTime.statusCode, 422);
      assert.ok('start' in (badTime.error.entity as { errors: object }).errors);

      // A local time that does not exist as written is refused, not rolled over into March.
      const impossibleLocal = await rejection(
        sdk.createEvent({
          calendar_id: account.calendarId,
          event_id: 'x',
          summary: 'x',
          start: { time: '2026-02-30T09:00:00', tzid: 'Europe/Paris' },
          end: { time: '2026-03-02T10:00:00', tzid: 'Europe/Paris' },
        }),
      );
      assert.equal(impossibleLocal.statusCode, 422);
      assert.ok('start' in (impossibleLocal.error.entity as { errors: object }).errors);

      const other = await createTestAccount(h.service, 'other@example.com');
      const otherSdk = sdkFor(h, other);
      const foreign = await rejection(
        otherSdk.createEvent({
          calendar_id: account.calendarId,
          event_id: 'x',
          summary: 'x',
          start: '2026-12-01T09:00:00Z',
          end: '2026-12-01T10:00:00Z',
        }),
      );
      assert.equal(foreign.statusCode, 403);
    });
  });
}
