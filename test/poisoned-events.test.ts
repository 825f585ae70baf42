import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { callApi } from './support/api.ts';
import { engines } from './support/postgres.ts';
import { createLogger } from '../src/log.ts';
import { ManualClock } from '../src/domain/clock.ts';

/**
 * One event must not break a calendar's reads (issue 23, item 1). Fields the Google face keeps
 * as given are checked to Google's shapes, nesting is bounded, and a row already stored that
 * cannot be read as written is repaired on the way out and logged, on both faces and engines.
 */

interface GoogleErrorBody {
  error: { code: number; message: string; errors: { reason: string; message: string }[] };
}
interface GoogleEvent {
  id: string;
  status: string;
  start: Record<string, string>;
  recurrence?: string[];
  [field: string]: unknown;
}
interface GoogleEvents {
  items: GoogleEvent[];
  nextSyncToken?: string;
}

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const times = {
  start: { dateTime: '2026-12-10T09:00:00Z' },
  end: { dateTime: '2026-12-10T10:00:00Z' },
};

for (const engine of engines)
  describe(`poisoned events on ${engine}`, () => {
    let h: Harness;
    let account: TestAccount;
    const lines: string[] = [];
    const clock = new ManualClock(Date.parse('2026-12-06T08:00:00Z'));
    const events = '/calendar/v3/calendars/primary/events';

    before(async () => {
      const logger = createLogger('warn', { write: (line: string) => void lines.push(line) });
      h = await startHarness({ engine, clock, logger });
      account = await createTestAccount(h.service);
    });
    after(() => h.close());

    const google = <J>(method: string, path: string, body?: unknown) =>
      callApi<J>(h.service, account.accessToken, method, path, body);

    /** A raw body, for JSON that JSON.stringify could not write. */
    const postRaw = async (path: string, text: string) => {
      const res = await h.service.app.request(path, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${account.accessToken}`,
          'content-type': 'application/json',
        },
        body: text,
      });
      return { status: res.status, json: (await res.json()) as GoogleErrorBody };
    };

    const insert = async (fields: Record<string, unknown> = {}) => {
      const res = await google<GoogleEvent>('POST', events, { ...times, ...fields });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      return res.json;
    };

    /** Writes a column of an event's row straight into the store, as an old version might have. */
    const poison = async (eventId: string, columns: Record<string, string | number>) => {
      await h.service.store.db
        .updateTable('events')
        .set(columns)
        .where('account_id', '=', account.accountId)
        .where('uid', '=', eventId)
        .execute();
    };

    const latestSeq = async () => {
      const row = await h.service.store.db
        .selectFrom('changes')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .executeTakeFirst();
      return Number(row?.seq ?? 0);
    };

    test('kept fields nested thousands deep are a 400, and nothing is stored', async () => {
      const before = await latestSeq();
      for (const depth of [10_000, 4_400]) {
        const body = JSON.stringify(times).replace(/}$/, `,"extendedProperties":${nested(depth)}}`);
        const res = await postRaw(events, body);
        assert.equal(res.status, 400, `depth ${depth}`);
        assert.equal(res.json.error.code, 400);
        assert.equal(res.json.error.errors[0]?.reason, 'parseError');
      }
      // Shallow enough to parse, but not of Google's shape: refused naming the field.
      const shallow = await postRaw(
        events,
        JSON.stringify({ ...times, attendees: JSON.parse(nested(20)) as unknown }),
      );
      assert.equal(shallow.status, 400);
      assert.match(shallow.json.error.message, /attendees/);
      assert.equal(await latestSeq(), before);
      const list = await google<GoogleEvents>('GET', events);
      assert.equal(list.status, 200);
    });

    test("kept fields are checked to Google's shapes, naming the field", async () => {
      const refused: [Record<string, unknown>, RegExp][] = [
        [{ attendees: 'ada@example.com' }, /attendees/],
        [{ attendees: [{ email: 42 }] }, /attendees\.0\.email/],
        [{ attendees: [{ responseStatus: 'maybe' }] }, /attendees\.0\.responseStatus/],
        [{ reminders: { overrides: [{ method: 'pigeon', minutes: 10 }] } }, /reminders/],
        [{ reminders: { overrides: [{ method: 'popup', minutes: -1 }] } }, /reminders/],
        [{ reminders: [] }, /reminders/],
        [{ extendedProperties: { private: { a: { b: 'c' } } } }, /extendedProperties\.private/],
        [{ extendedProperties: { private: { ['k'.repeat(45)]: 'v' } } }, /extendedProperties/],
        [{ extendedProperties: [] }, /extendedProperties/],
        [{ colorId: 7 }, /colorId/],
        [{ source: { url: 'javascript:alert(1)' } }, /source\.url/],
        [{ source: 'somewhere' }, /source/],
        [{ transparency: 'see-through' }, /transparency/],
        [{ visibility: { a: 1 } }, /visibility/],
      ];
      for (const [fields, field] of refused) {
        const res = await google<GoogleErrorBody>('POST', events, { ...times, ...fields });
        assert.equal(res.status, 400, JSON.stringify(fields));
        assert.equal(res.json.error.errors[0]?.reason, 'invalid', JSON.stringify(fields));
        assert.match(res.json.error.message, field, JSON.stringify(fields));
      }
    });

    test('kept fields of the right shape round-trip; unknown keys inside them are dropped', async () => {
      const fields = {
        colorId: '5',
        transparency: 'transparent',
        visibility: 'private',
        attendees: [
          { email: 'ada@example.com', responseStatus: 'accepted', optional: true, secret: 'x' },
        ],
        reminders: { useDefault: false, overrides: [{ method: 'popup', minutes: 10 }] },
        extendedProperties: { private: { petsAllowed: 'yes' }, shared: { room: '12' } },
        source: { title: 'Booking', url: 'https://example.com/b/1' },
      };
      const created = await insert(fields);
      const got = await google<GoogleEvent>('GET', `${events}/${created.id}`);
      assert.equal(got.status, 200);
      for (const [name, value] of Object.entries(fields)) {
        const expected =
          name === 'attendees'
            ? [{ email: 'ada@example.com', responseStatus: 'accepted', optional: true }]
            : value;
        assert.deepEqual(got.json[name], expected, name);
      }
    });

    test('a patch merges extended properties key by key; a null value deletes one', async () => {
      const created = await insert({
        extendedProperties: { private: { petsAllowed: 'yes', smoking: 'no' }, shared: { a: '1' } },
      });
      const patched = await google<GoogleEvent>('PATCH', `${events}/${created.id}`, {
        extendedProperties: { private: { petsAllowed: null, parking: 'yes' } },
      });
      assert.equal(patched.status, 200);
      assert.deepEqual(patched.json.extendedProperties, {
        private: { smoking: 'no', parking: 'yes' },
        shared: { a: '1' },
      });
      // An update replaces them whole, and never stores a null.
      const updated = await google<GoogleEvent>('PUT', `${events}/${created.id}`, {
        ...times,
        extendedProperties: { shared: { b: '2', c: null } },
      });
      assert.deepEqual(updated.json.extendedProperties, { shared: { b: '2' } });
    });

    test('a row that cannot be read as written is repaired on every read, logged, and can be mended', async () => {
      const deep = await insert({ summary: 'deep' });
      const broken = await insert({ summary: 'broken' });
      const oldShape = await insert({ summary: 'old shape', colorId: '3' });
      const badTimes = await insert({ summary: 'bad times' });
      const series = await insert({
        summary: 'series',
        recurrence: ['RRULE:FREQ=DAILY;COUNT=3'],
      });
      const sync = await google<GoogleEvents>('GET', events);
      assert.equal(sync.status, 200);

      // The residue of the attack before this fix, and other damage a row may carry.
      await poison(deep.id, { extra_json: `{"extendedProperties":${nested(4_400)}}` });
      await poison(broken.id, { extra_json: '{"colorId": "2"' });
      await poison(oldShape.id, { extra_json: '{"colorId":"3","attendees":"everyone"}' });
      await poison(badTimes.id, { start_json: 'null', end_json: '{"dateTime":"soon"}' });
      await poison(series.id, { recurrence_json: '["RRULE:FREQ=DAILY;COUNT=3"' });
      lines.length = 0;

      const list = await google<GoogleEvents>('GET', events);
      assert.equal(list.status, 200);
      const byId = new Map(list.json.items.map((e) => [e.id, e]));
      for (const e of [deep, broken, oldShape, badTimes, series]) assert.ok(byId.has(e.id));
      assert.equal(byId.get(deep.id)?.extendedProperties, undefined);
      assert.equal(byId.get(broken.id)?.colorId, undefined);
      assert.equal(byId.get(oldShape.id)?.colorId, '3');
      assert.equal(byId.get(oldShape.id)?.attendees, undefined);
      assert.deepEqual(byId.get(badTimes.id)?.start, { dateTime: '2026-12-10T09:00:00Z' });
      assert.equal(byId.get(series.id)?.recurrence, undefined);

      const single = await google<GoogleEvents>('GET', `${events}?singleEvents=true`);
      assert.equal(single.status, 200);
      // A series whose rules cannot be read lists as its first occurrence.
      assert.equal(single.json.items.filter((e) => e.id.startsWith(series.id)).length, 1);
      const got = await google<GoogleEvent>('GET', `${events}/${deep.id}`);
      assert.equal(got.status, 200);
      await poison(deep.id, { change_seq: Number.MAX_SAFE_INTEGER });
      const changed = await google<GoogleEvents>(
        'GET',
        `${events}?syncToken=${encodeURIComponent(sync.json.nextSyncToken ?? '')}`,
      );
      assert.equal(changed.status, 200);
      assert.ok(changed.json.items.some((e) => e.id === deep.id));
      const cronofy = await callApi<{ events: { event_uid: string }[] }>(
        h.service,
        account.accessToken,
        'GET',
        '/v1/events?tzid=UTC&include_managed=true',
      );
      assert.equal(cronofy.status, 200);
      assert.ok(cronofy.json.events.some((e) => e.event_uid === badTimes.id));

      const logged = lines.map((l) => JSON.parse(l) as { msg: string; eventId: string });
      const repaired = new Set(
        logged.filter((l) => l.msg === 'stored event repaired on read').map((l) => l.eventId),
      );
      for (const e of [deep, broken, oldShape, badTimes]) assert.ok(repaired.has(e.id), e.id);

      // A write stores the repaired values: the row reads clean from then on.
      const patched = await google<GoogleEvent>('PATCH', `${events}/${badTimes.id}`, {
        summary: 'mended',
      });
      assert.equal(patched.status, 200);
      assert.equal(
        await google<unknown>('DELETE', `${events}/${deep.id}`).then((r) => r.status),
        204,
      );
      assert.equal(
        await google<unknown>('DELETE', `${events}/${series.id}`).then((r) => r.status),
        204,
      );
      lines.length = 0;
      const after = await google<GoogleEvents>('GET', `${events}?showDeleted=true`);
      assert.equal(after.status, 200);
      const mended = after.json.items.find((e) => e.id === badTimes.id);
      assert.equal(mended?.summary, 'mended');
      const stillLogged = lines.map((l) => JSON.parse(l) as { eventId: string });
      assert.ok(!stillLogged.some((l) => l.eventId === badTimes.id || l.eventId === deep.id));
    });

    test('a row that cannot be shown at all is left out of the list, not the list lost', async () => {
      const fine = await insert({ summary: 'fine' });
      const hopeless = await insert({ summary: 'hopeless' });
      // Past the last instant a Date can hold: no timestamp can be written for it.
      await poison(hopeless.id, { created_at: 9e15 });
      lines.length = 0;
      const list = await google<GoogleEvents>('GET', events);
      assert.equal(list.status, 200);
      assert.ok(list.json.items.some((e) => e.id === fine.id));
      assert.ok(!list.json.items.some((e) => e.id === hopeless.id));
      const logged = lines.map((l) => JSON.parse(l) as { msg: string; eventId: string });
      assert.ok(
        logged.some(
          (l) => l.msg === 'stored event left out of a read' && l.eventId === hopeless.id,
        ),
      );
      await poison(hopeless.id, { created_at: clock.now() });
    });
  });
