import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { sql } from 'kysely';
import { Pool } from 'undici';
import type { Harness, TestAccount } from './harness.ts';
import { addAccount, createTestAccount, startHarness } from './harness.ts';
import { callApi } from './api.ts';
import type { TestEngine } from './postgres.ts';
import type { Face, Operation } from './openapi-operations.ts';
import { documentedOperations, faceOf } from './openapi-operations.ts';
import type { FuzzRequest, Known } from './fuzz-requests.ts';
import { requestsFor } from './fuzz-requests.ts';

/**
 * Property-based fuzzing of every documented route of both faces on a real server (issue 23):
 * random and malformed bodies, headers, query strings and path segments. After each request:
 * no 5xx; every error in its face's format; a refused request changed nothing; a bystander
 * account never changes. Now and then, and at the end, every list of the account still reads.
 *
 * Bounded and deterministic: a fixed seed and run count (CALPUSH_FUZZ_SEED and
 * CALPUSH_FUZZ_RUNS change them), and the seed is printed with any failure.
 */

const SEED = Number(process.env.CALPUSH_FUZZ_SEED ?? 23_2026);
const LISTS_EVERY = 300;

const ICS = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//calpush fuzz//EN',
  'BEGIN:VEVENT',
  'UID:fuzz-feed-1@example.com',
  'DTSTAMP:20261201T000000Z',
  'DTSTART:20261210T090000Z',
  'DTEND:20261210T100000Z',
  'SUMMARY:From the feed',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

/**
 * What a request could change, each read by one scalar query and all in one statement (a
 * statement per table cost PostgreSQL runs most of their time): every table's rows, the
 * change log, and what a write may change in place without a change-log entry.
 */
const STORE_PROBES: (readonly [string, string])[] = [
  ...[
    'clients',
    'client_secrets',
    'accounts',
    'access_tokens',
    'profiles',
    'calendars',
    'events',
    'changes',
    'channels',
    'notifications',
    'acl_rules',
    'settings',
    'sources',
    'source_calendars',
    'source_items',
  ].map((table) => [table, `select count(*) from ${table}`] as const),
  ['seq', 'select max(seq) from changes'],
  ['events_seq', 'select max(change_seq) from events'],
  ['events_updated', 'select max(updated_at) from events'],
  ['events_sequence', 'select sum(sequence) from events'],
  ['calendars_seq', 'select max(change_seq) from calendars'],
  ['acl_seq', 'select max(change_seq) from acl_rules'],
  ['settings_seq', 'select max(change_seq) from settings'],
  ['channels_live', "select count(*) from channels where state = 'active'"],
  ['channels_closed', 'select max(closed_at) from channels'],
  [
    'sources_edits',
    "select sum(length(name) + length(coalesce(username, '')) + length(coalesce(sealed_password, '')) + poll_interval_ms) from sources",
  ],
  ['sources_state', "select count(*) from sources where state = 'disconnected'"],
];

/** Registers the fuzzing suite on one store engine; `runs` unless CALPUSH_FUZZ_RUNS says. */
export function fuzzSuite(engine: TestEngine, runs: number): void {
  const RUNS = Number(process.env.CALPUSH_FUZZ_RUNS ?? runs);
  describe(`fuzzing every documented route on ${engine}`, () => {
    let h: Harness;
    let account: TestAccount;
    let pool: Pool;
    let feed: Server;
    let known: Known;
    let bystanderId: string;

    before(async () => {
      feed = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/calendar' });
        res.end(ICS);
      });
      await new Promise<void>((resolve) => feed.listen(0, '127.0.0.1', resolve));
      h = await startHarness({
        listen: true,
        engine,
        // Thousands of small writes, none of them about durability.
        asyncCommit: true,
        env: { CALPUSH_RATE_LIMIT: '0' },
      });
      pool = new Pool(h.url, { connections: 4, headersTimeout: 10_000, bodyTimeout: 10_000 });
      account = await createTestAccount(h.service, 'fuzz@example.com');
      const bystander = await addAccount(h.service, account.clientId, 'bystander@example.com');
      bystanderId = bystander.accountId;
      known = await seed(account, bystander);
    });
    after(async () => {
      await pool.close();
      await h.close();
      await new Promise<void>((resolve) => feed.close(() => resolve()));
    });

    /** The account's data the fuzzer aims at, and a bystander's it must never reach. */
    async function seed(a: TestAccount, b: Awaited<ReturnType<typeof addAccount>>): Promise<Known> {
      const as = <J>(token: string, method: string, path: string, body?: unknown) =>
        callApi<J>(h.service, token, method, path, body).then((r) => {
          assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
          return r.json;
        });
      const times = {
        start: { dateTime: '2026-12-10T09:00:00Z' },
        end: { dateTime: '2026-12-10T10:00:00Z' },
      };
      const events = `/calendar/v3/calendars/${a.calendarId}/events`;
      const secondary = await as<{ id: string }>(a.accessToken, 'POST', '/calendar/v3/calendars', {
        summary: 'second',
      });
      const single = await as<{ id: string }>(a.accessToken, 'POST', events, {
        ...times,
        attendees: [{ email: 'ada@example.com' }],
        extendedProperties: { private: { k: 'v' } },
      });
      const series = await as<{ id: string }>(a.accessToken, 'POST', events, {
        ...times,
        recurrence: ['RRULE:FREQ=DAILY;COUNT=5'],
      });
      const occurrence = `${series.id}_20261211T090000Z`;
      await as(a.accessToken, 'PATCH', `${events}/${occurrence}`, { summary: 'moved' });
      const rule = await as<{ id: string }>(
        a.accessToken,
        'POST',
        `/calendar/v3/calendars/${a.calendarId}/acl`,
        {
          role: 'reader',
          scope: { type: 'user', value: 'bob@example.com' },
        },
      );
      const channel = await as<{ channel: { channel_id: string } }>(
        a.accessToken,
        'POST',
        '/v1/channels',
        {
          callback_url: 'http://127.0.0.1:9/seed',
        },
      );
      const watch = await as<{ id: string; resourceId: string }>(
        a.accessToken,
        'POST',
        `${events}/watch`,
        {
          id: 'seed-channel',
          type: 'web_hook',
          address: 'http://127.0.0.1:9/seed',
        },
      );
      const { port } = feed.address() as AddressInfo;
      const source = await as<{ source: { source_id: string } }>(
        a.accessToken,
        'POST',
        '/v1/sources',
        {
          provider: 'ics',
          url: `http://127.0.0.1:${port}/feed.ics`,
        },
      );
      // A row as the attack of issue 23 left them: every read must get past it.
      const poisoned = await as<{ id: string }>(a.accessToken, 'POST', events, times);
      await h.service.store.db
        .updateTable('events')
        .set({ extra_json: `{"extendedProperties":${'['.repeat(4400)}${']'.repeat(4400)}}` })
        .where('uid', '=', poisoned.id)
        .execute();
      const theirs = await as<{ id: string }>(
        b.accessToken,
        'POST',
        `/calendar/v3/calendars/${b.calendarId}/events`,
        times,
      );
      return {
        calendarId: [a.calendarId, 'primary', secondary.id, 'fuzz@example.com', b.calendarId],
        calendar_id: [a.calendarId, secondary.id, b.calendarId],
        calendar_ids: [a.calendarId, secondary.id],
        eventId: [
          single.id,
          series.id,
          occurrence,
          `${series.id}_20261212T090000Z`,
          poisoned.id,
          theirs.id,
        ],
        ruleId: [rule.id],
        channel_id: [channel.channel.channel_id],
        source_id: [source.source.source_id],
        setting: ['timezone', 'locale', 'weekStart'],
        profile_id: [a.profileId],
        resourceId: [watch.resourceId],
      };
    }

    interface Answer {
      readonly status: number;
      readonly headers: Record<string, string | string[] | undefined>;
      readonly text: string;
    }

    async function send(req: FuzzRequest): Promise<Answer> {
      const res = await pool.request({
        method: req.method,
        path: req.path,
        headers: req.headers,
        body: req.body,
      });
      return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
    }

    type Json = Record<string, unknown>;

    const isRecord = (v: unknown): v is Json =>
      v !== null && typeof v === 'object' && !Array.isArray(v);

    /** Why an error body is not in its face's format, or undefined when it is. */
    function formatProblem(face: Face, status: number, text: string): string | undefined {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return 'not JSON';
      }
      if (!isRecord(body)) return 'not an object';
      if (face === 'graph') {
        // Graph's envelope: {error: {code, message, innerError}}, the code a string.
        const error = body.error;
        return isRecord(error) &&
          typeof error.code === 'string' &&
          typeof error.message === 'string' &&
          isRecord(error.innerError)
          ? undefined
          : 'no Graph error {code, message, innerError}';
      }
      if (face === 'oauth') {
        // OAuth's own (RFC 6749 §5.2): {error, error_description?}.
        return typeof body.error === 'string' ? undefined : 'no OAuth error code';
      }
      if (face === 'cronofy') {
        const errors = body.errors;
        if (!isRecord(errors) || Object.keys(errors).length === 0) return 'no errors object';
        for (const list of Object.values(errors)) {
          if (!Array.isArray(list) || list.length === 0) return 'an empty error list';
          for (const item of list) {
            if (
              !isRecord(item) ||
              typeof item.key !== 'string' ||
              typeof item.description !== 'string'
            )
              return 'an error without key and description';
          }
        }
        return undefined;
      }
      const error = body.error;
      if (!isRecord(error) || error.code !== status || typeof error.message !== 'string')
        return 'no error {code, message}';
      if (face === 'root') return undefined;
      // The admin API's: the root's, with a reason word.
      if (face === 'admin') return typeof error.reason === 'string' ? undefined : 'no reason';
      const items = error.errors;
      if (!Array.isArray(items) || items.length === 0) return 'no errors list';
      for (const item of items) {
        if (
          !isRecord(item) ||
          typeof item.domain !== 'string' ||
          typeof item.reason !== 'string' ||
          typeof item.message !== 'string'
        )
          return 'an error item without domain, reason and message';
      }
      return undefined;
    }

    /** The store as far as a request can change it, and the bystander's part of it. */
    async function snapshot(): Promise<{ store: string; bystander: string }> {
      const { rows } = await sql<Record<string, unknown>>`select ${sql.join(
        [...STORE_PROBES, ...bystanderProbes()].map(
          ([name, query]) => sql`(${sql.raw(query)}) as ${sql.ref(name)}`,
        ),
      )}`.execute(h.service.store.db);
      const row = Object.fromEntries(
        Object.entries(rows[0] ?? {}).map(([k, v]) => [k, v === null ? null : String(v as number)]),
      );
      const pick = (probes: readonly (readonly [string, string])[]) =>
        JSON.stringify(probes.map(([name]) => row[name]));
      return { store: pick(STORE_PROBES), bystander: pick(bystanderProbes()) };
    }

    /** The bystander's rows, counted and by their latest change. */
    function bystanderProbes(): (readonly [string, string])[] {
      const theirs = `account_id = '${bystanderId}'`;
      return [
        ...['calendars', 'events', 'channels', 'settings', 'profiles'].map(
          (table) => [`b_${table}`, `select count(*) from ${table} where ${theirs}`] as const,
        ),
        ['b_seq', `select max(seq) from changes where ${theirs}`],
        ['b_events', `select max(change_seq) from events where ${theirs}`],
        ['b_calendars', `select max(change_seq) from calendars where ${theirs}`],
      ];
    }

    function describeRequest(req: FuzzRequest, answer?: Answer): string {
      const body =
        req.body === undefined
          ? ''
          : typeof req.body === 'string'
            ? req.body.slice(0, 300)
            : `<${req.body.length} bytes>`;
      return [
        `fuzz seed ${SEED} (CALPUSH_FUZZ_SEED) on ${engine}; route ${req.route}`,
        `${req.method} ${req.path.slice(0, 300)}`,
        JSON.stringify(req.headers).slice(0, 300),
        body,
        answer ? `→ ${answer.status} ${answer.text.slice(0, 300)}` : '',
      ].join('\n');
    }

    /** One fuzzed request and the invariants it must keep. */
    async function check(req: FuzzRequest): Promise<void> {
      const before = await snapshot();
      let answer: Answer;
      try {
        answer = await send(req);
      } catch (err) {
        const code = (err as { code?: string }).code;
        // The client refused to send it (a header or path it will not write): not the server's.
        if (code === 'UND_ERR_INVALID_ARG') return;
        assert.fail(
          `${describeRequest(req)}\nfailed on the wire: ${code} ${(err as Error).message}`,
        );
      }
      const where = describeRequest(req, answer);
      assert.ok(answer.status < 500, `a 5xx\n${where}`);
      const face = faceOf(new URL(req.path, 'http://x').pathname);
      if (answer.status >= 400) {
        const problem = formatProblem(face, answer.status, answer.text);
        assert.equal(problem, undefined, `not in the ${face} error format: ${problem}\n${where}`);
        const now = await snapshot();
        assert.equal(now.store, before.store, `a refused request changed the store\n${where}`);
      } else if (answer.text !== '') {
        assert.doesNotThrow(() => JSON.parse(answer.text), `a success that is not JSON\n${where}`);
      }
      const after = await snapshot();
      assert.equal(after.bystander, before.bystander, `the bystander's rows changed\n${where}`);
    }

    /** Every list of the account reads, page after page, and its sync token reads too. */
    async function checkListsReadable(operations: readonly Operation[]): Promise<void> {
      const get = async (path: string) => {
        const answer = await send({
          method: 'GET',
          path,
          headers: { authorization: `Bearer ${account.accessToken}` },
          route: 'lists',
        });
        assert.equal(
          answer.status,
          200,
          `fuzz seed ${SEED}: GET ${path} → ${answer.status} ${answer.text.slice(0, 300)}`,
        );
        return JSON.parse(answer.text) as Json;
      };
      const calendars = (await get('/calendar/v3/users/me/calendarList')).items as { id: string }[];
      const lists = operations.filter(
        // The admin API's lists and /metrics need the operator's token, which the fuzzer
        // never holds.
        (op) =>
          op.method === 'GET' &&
          op.face !== 'admin' &&
          op.path !== '/metrics' &&
          op.pathParams.every((p) => p === 'calendarId'),
      );
      for (const op of lists) {
        const targets =
          op.pathParams.length === 0
            ? [op.path]
            : calendars.map((c) => op.path.replace('{calendarId}', encodeURIComponent(c.id)));
        const variants =
          op.path === '/v1/events'
            ? [
                '?tzid=UTC',
                '?tzid=UTC&include_deleted=true&include_managed=true&from=2026-01-01&to=2028-01-01',
              ]
            : op.path.endsWith('/events')
              ? [
                  '',
                  '?singleEvents=true&showDeleted=true&timeMax=2027-01-01T00:00:00Z',
                  '?showDeleted=true&maxResults=20',
                ]
              : [''];
        for (const target of targets) {
          for (const query of variants) {
            let page = await get(`${target}${query}`);
            for (let n = 0; n < 50; n++) {
              const next = page.nextPageToken ?? (page.pages as Json | undefined)?.next_page;
              if (typeof next !== 'string') break;
              page = await get(
                typeof page.nextPageToken === 'string'
                  ? `${target}?pageToken=${encodeURIComponent(next)}`
                  : new URL(next).pathname,
              );
            }
            if (typeof page.nextSyncToken === 'string') {
              const sep = query.includes('singleEvents') ? '&singleEvents=true' : '';
              await get(`${target}?syncToken=${encodeURIComponent(page.nextSyncToken)}${sep}`);
            }
          }
        }
      }
    }

    test('every documented route keeps its invariants under random and malformed requests', async () => {
      const operations = documentedOperations();
      assert.ok(operations.length >= 40, `${operations.length} documented operations`);
      let runs = 0;
      const property = fc.asyncProperty(
        requestsFor(operations, known, account.accessToken),
        async (req) => {
          await check(req);
          if (++runs % LISTS_EVERY === 0) await checkListsReadable(operations);
        },
      );
      try {
        await fc.assert(property, { seed: SEED, numRuns: RUNS, endOnFailure: true });
      } catch (err) {
        // fast-check names the seed and path to replay; say how to set it here too.
        const cause = (err as Error).cause;
        const detail = cause instanceof Error ? cause.message : '';
        throw new Error(
          `fuzz seed ${SEED} (set CALPUSH_FUZZ_SEED to replay)\n${detail}\n${(err as Error).message}`,
        );
      }
      await checkListsReadable(operations);
    });
  });
}
