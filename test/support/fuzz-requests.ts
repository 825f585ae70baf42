import fc from 'fast-check';
import type { Operation, Schema } from './openapi-operations.ts';
import { resolve } from './openapi-operations.ts';

/**
 * Requests for the fuzzer: for a documented route, path segments, query strings, headers and
 * bodies that are sometimes right, often nearly right, and sometimes nonsense.
 */

export interface FuzzRequest {
  readonly method: string;
  /** Path and query as sent, unnormalised. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array | undefined;
  /** The route it was made for, for the report. */
  readonly route: string;
}

/** Real values the fuzzer mixes in (ids of the seeded account and of a bystander's). */
export type Known = Readonly<Record<string, readonly string[]>>;

/** Percent-encoding that takes any string: a lone surrogate is sent as U+FFFD. */
const enc = (text: string) => encodeURIComponent(text.toWellFormed());

const junkText = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  // The values that break things are rare among random strings: drawn as often as those.
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '\ud800',
      'null',
      '-1',
      '1e999',
      'x'.repeat(5000),
    ),
  },
);

const goodTimes = [
  '2026-12-10T09:00:00Z',
  '2026-12-10T09:00:00+02:00',
  '2026-11-01T00:00:00Z',
  '2027-03-01T12:30:00-05:00',
];
const badTimes = [
  '2026-12-10T09:00:00',
  '2026-02-30T09:00:00Z',
  '2026-12-10T24:00:00Z',
  '0001-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '+275760-09-13T00:00:00Z',
  '2026-12-10',
  'yesterday',
];

/** Values worth trying for a field or parameter, by its name: right ones, and wrong ones. */
const byName: Record<string, { good: readonly unknown[]; bad: readonly unknown[] }> = {
  tzid: { good: ['UTC', 'Europe/Paris'], bad: ['Mars/Olympus', '', '../../etc/passwd'] },
  timeZone: { good: ['UTC', 'America/New_York'], bad: ['Nowhere/Else', ''] },
  recurrence: {
    good: [
      ['RRULE:FREQ=DAILY;COUNT=3'],
      ['RRULE:FREQ=WEEKLY;BYDAY=MO,WE'],
      ['RRULE:FREQ=DAILY', 'EXDATE:20261211T090000Z'],
      ['RRULE:FREQ=MONTHLY;UNTIL=20280101T000000Z', 'RDATE:20261224T090000Z'],
      [],
    ],
    bad: [
      ['RRULE:FREQ=SECONDLY'],
      ['RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30'],
      ['RRULE:FREQ=DAILY;UNTIL=99991231T000000Z'],
      ['RRULE:'],
      ['X-NOPE:1'],
      ['RRULE:FREQ=DAILY;COUNT=999999999'],
    ],
  },
  maxResults: { good: ['1', '2', '250'], bad: ['2501', '0', '-1', '1.5', '1e3', 'NaN', ''] },
  callback_url: { good: ['http://127.0.0.1:9/hook'], bad: ['ftp://x', '', 'http://[::1'] },
  address: { good: ['http://127.0.0.1:9/hook'], bad: ['not a url', 'https://'] },
  url: { good: ['http://127.0.0.1:9/feed.ics'], bad: ['webcal://127.0.0.1:9/x', 'gopher://x'] },
  provider: { good: ['ics', 'caldav'], bad: ['exchange', ''] },
  orderBy: { good: ['startTime', 'updated'], bad: ['nope'] },
  ttl: { good: ['60', '3600'], bad: ['-1', 'soon', '99999999999999'] },
  poll_interval_seconds: { good: [60, 300, 900], bad: [0, 29, 1e12, 1.5] },
  expiration: { good: ['1893456000000'], bad: ['9999999999999999', '0', '-1', 1e300] },
  singleEvents: { good: ['true', 'false'], bad: ['yes', ''] },
  id: { good: ['abcdefghij', 'vvvvv12345'], bad: ['seed-channel', 'a b', 'x'.repeat(65), ''] },
  showDeleted: { good: ['true', 'false'], bad: ['1', ''] },
};
for (const name of ['timeMin', 'timeMax', 'updatedMin', 'originalStart', 'last_modified']) {
  byName[name] = { good: goodTimes, bad: badTimes };
}
for (const name of ['from', 'to']) {
  byName[name] = {
    good: ['2026-12-01', '2027-06-01', ...goodTimes],
    bad: ['0000-01-01', ...badTimes],
  };
}
byName.dateTime = { good: goodTimes, bad: badTimes };
byName.time = { good: goodTimes, bad: badTimes };
// Cronofy's start and end may be strings (times or dates); Google's are objects (below).
byName.start = { good: [...goodTimes, '2026-12-10'], bad: badTimes };
byName.end = { good: [...goodTimes, '2026-12-11'], bad: badTimes };
byName.date = { good: ['2026-12-10', '2026-12-11'], bad: ['2026-02-30', 'today', '+275760-01-01'] };

/** Clean requests are right but for chance; noisy ones are often wrong somewhere. */
export type Noise = 'clean' | 'noisy';

function typeOf(schema: Schema): string | undefined {
  const { type } = schema;
  return typeof type === 'string' ? type : type?.[0];
}

/** A value of a schema's shape (nearly always, when noisy); `name` picks values worth trying. */
export function valueOf(
  schemaOrRef: Schema,
  known: Known,
  noise: Noise,
  name = '',
  depth = 0,
): fc.Arbitrary<unknown> {
  const schema = resolve(schemaOrRef);
  const right = rightValueOf(schema, known, noise, name, depth);
  if (noise === 'clean') return right;
  const named = byName[name];
  const wrong = fc.oneof(
    junkText,
    fc.jsonValue({ maxDepth: 2 }),
    ...(named && named.bad.length > 0 ? [fc.constantFrom(...named.bad)] : []),
  );
  return fc.oneof({ weight: 6, arbitrary: right }, { weight: 1, arbitrary: wrong });
}

/** Google's event boundary: a date, or a date-time with an optional zone. */
const googleTime = fc.oneof(
  fc.constantFrom('2026-12-10', '2026-12-11').map((date) => ({ date })),
  fc.record(
    { dateTime: fc.constantFrom(...goodTimes), timeZone: fc.constantFrom('UTC', 'Europe/Paris') },
    { requiredKeys: ['dateTime'] },
  ),
);

const googleSpans = fc.constantFrom(
  { start: { dateTime: '2026-12-10T09:00:00Z' }, end: { dateTime: '2026-12-10T10:00:00Z' } },
  {
    start: { dateTime: '2026-12-10T09:00:00', timeZone: 'Europe/Paris' },
    end: { dateTime: '2026-12-10T09:30:00', timeZone: 'Europe/Paris' },
  },
  { start: { date: '2026-12-10' }, end: { date: '2026-12-11' } },
);
const cronofySpans = fc.constantFrom(
  { start: '2026-12-10T09:00:00Z', end: '2026-12-10T10:00:00Z' },
  { start: '2026-12-10', end: '2026-12-11' },
  {
    start: { time: '2026-12-10T09:00:00', tzid: 'Europe/Paris' },
    end: { time: '2026-12-10T10:00:00', tzid: 'Europe/Paris' },
  },
);

function rightValueOf(schema: Schema, known: Known, noise: Noise, name: string, depth: number) {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const ids = known[name];
  if (ids && ids.length > 0) {
    return typeOf(schema) === 'array'
      ? fc.subarray([...ids], { minLength: 1 })
      : fc.constantFrom(...ids);
  }
  const leaf = typeOf(schema) !== 'object' && !schema.allOf && !schema.properties;
  const named = byName[name];
  if (named && leaf && !schema.oneOf) return fc.constantFrom(...named.good);
  if (schema.properties?.date && schema.properties.dateTime) return googleTime;
  const choices = schema.oneOf ?? schema.anyOf;
  if (choices) return fc.oneof(...choices.map((s) => valueOf(s, known, noise, name, depth + 1)));
  if (schema.allOf) {
    const merged = schema.allOf.map((s) => resolve(s));
    const properties = Object.assign({}, ...merged.map((s) => s.properties ?? {})) as Record<
      string,
      Schema
    >;
    return objectOf({ type: 'object', properties }, known, noise, depth);
  }
  switch (typeOf(schema)) {
    case 'string':
      if (schema.format === 'date-time') return fc.constantFrom(...goodTimes);
      if (schema.format === 'date') return fc.constantFrom('2026-12-10', '2026-12-11');
      if (schema.format === 'uri') return fc.constant('https://example.com/x');
      return fc.string({ maxLength: Math.min(schema.maxLength ?? 16, 16) });
    case 'integer':
      return fc.integer({ min: schema.minimum ?? 0, max: Math.min(schema.maximum ?? 100, 1e6) });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return depth > 4
        ? fc.constant([])
        : fc.array(valueOf(schema.items ?? {}, known, noise, '', depth + 1), { maxLength: 3 });
    case 'object':
      return objectOf(schema, known, noise, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function objectOf(
  schema: Schema,
  known: Known,
  noise: Noise,
  depth: number,
): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  if (depth > 4 || Object.keys(properties).length === 0) {
    const value =
      typeof schema.additionalProperties === 'object'
        ? valueOf(schema.additionalProperties, known, noise, '', depth + 1)
        : fc.jsonValue({ maxDepth: 1 });
    return fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), value, { maxKeys: 3 });
  }
  const record = fc.record(
    Object.fromEntries(
      Object.entries(properties).map(([key, s]) => [key, valueOf(s, known, noise, key, depth + 1)]),
    ),
    { requiredKeys: [...(schema.required ?? [])].filter((k) => k in properties) },
  );
  if (noise === 'clean') {
    // A start and an end drawn apart rarely make an event: draw them together.
    const start = properties.start && resolve(properties.start);
    if (!start || !properties.end) return record;
    const spans = start.properties?.date ? googleSpans : cronofySpans;
    return fc.tuple(record, spans).map(([value, span]) => ({ ...(value as object), ...span }));
  }
  // Now and then a key nobody defined.
  return fc
    .tuple(record, fc.option(fc.tuple(fc.string({ maxLength: 8 }), fc.jsonValue())))
    .map(([value, extra]) => (extra ? { ...value, [extra[0]]: extra[1] } : value));
}

const nested = (depth: number, inner = '') => '['.repeat(depth) + inner + ']'.repeat(depth);

/** A request body: of the route's schema, other JSON, or not JSON at all. */
function bodyOf(
  op: Operation,
  known: Known,
  noise: Noise,
): fc.Arbitrary<string | Uint8Array | undefined> {
  const shaped = op.body ? valueOf(op.body, known, noise) : fc.constant({});
  const json = shaped.map((v) => JSON.stringify(v) ?? 'null');
  if (noise === 'clean') return json;
  return fc.oneof(
    { weight: 20, arbitrary: json },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    {
      weight: 3,
      arbitrary: fc.oneof(
        json.map((t) => t.slice(0, Math.max(0, t.length - 3))),
        json.map((t) => `\ufeff${t}`),
        fc.integer({ min: 10, max: 6000 }).map((d) => nested(d)),
        fc.integer({ min: 10, max: 6000 }).map((d) => `{"attendees":${nested(d)}}`),
        fc.constantFrom('{"a":1,"a":2}', '"\\ud800"', '{"summary":"\\u0000"}', '1e999', '{'),
        fc.uint8Array({ maxLength: 64 }),
        fc.string({ maxLength: 64 }),
      ),
    },
    { weight: 1, arbitrary: fc.constant(JSON.stringify({ pad: 'x'.repeat(300_000) })) },
  );
}

/** A path segment: a real id, or something that is not one. */
function segmentOf(name: string, known: Known, noise: Noise): fc.Arbitrary<string> {
  const real = known[name] ?? [];
  if (noise === 'clean' && real.length > 0) return fc.constantFrom(...real);
  const junk = fc.oneof(
    fc.string({ maxLength: 20 }).map(enc),
    fc.string({ unit: 'grapheme', maxLength: 8 }).map(enc),
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '.',
        '..',
        '%',
        '%zz',
        '%00',
        '%2F',
        'a%2Fb',
        '%E0%A4%A',
        '%C0%AF',
        'x'.repeat(3000),
      ),
    },
  );
  return real.length > 0
    ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...real) }, { weight: 1, arbitrary: junk })
    : junk;
}

/** Parameters a clean request leaves out: only a page or sync token handed out can be right. */
const TOKENS = new Set(['pageToken', 'syncToken', 'token']);

/** A query string: the route's parameters with values right and wrong, and some it lacks. */
function queryOf(op: Operation, known: Known, noise: Noise): fc.Arbitrary<string> {
  const params = op.query.filter((p) => noise === 'noisy' || !TOKENS.has(p.name));
  const declared = params.map((p) =>
    fc.option(
      valueOf(p.schema, known, noise, p.name).map((v) => {
        const text = typeof v === 'string' ? v : JSON.stringify(v);
        return `${enc(p.name)}=${enc(text ?? '')}`;
      }),
      { freq: 2 },
    ),
  );
  const extra =
    noise === 'clean'
      ? fc.constant([])
      : fc.array(
          fc.oneof(
            fc
              .tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }))
              .map(([k, v]) => `${enc(k)}=${enc(v)}`),
            fc.constantFrom('%', '%zz=1', '=', '&&', 'a=%E0%A4%A', 'access_token=nope', 'tzid'),
            fc
              .constantFrom('syncToken', 'pageToken', 'showDeleted', 'maxResults')
              .chain((k) => junkText.map((v) => `${k}=${enc(v)}`)),
          ),
          { maxLength: 2 },
        );
  return fc.tuple(fc.tuple(...declared), extra).map(([d, e]) => {
    const parts = [...d.filter((p): p is string => p !== null), ...e];
    return parts.length > 0 ? `?${parts.join('&')}` : '';
  });
}

const headerValue = fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''));

function headersOf(token: string, noise: Noise): fc.Arbitrary<Record<string, string>> {
  if (noise === 'clean') {
    return fc.constant({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
  }
  const authorization = fc.oneof(
    { weight: 12, arbitrary: fc.constant(`Bearer ${token}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('', 'Bearer', 'Bearer nope', `Basic ${token}`, `Bearer ${token}x`),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const contentType = fc.oneof(
    { weight: 12, arbitrary: fc.constant('application/json') },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'text/plain',
        'application/json; charset=utf-16',
        'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded',
        '',
      ),
    },
    { weight: 1, arbitrary: headerValue },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const extra = fc.dictionary(
    fc.constantFrom('if-match', 'accept', 'x-http-method-override', 'accept-encoding', 'x-nope'),
    headerValue,
    { maxKeys: 2 },
  );
  return fc
    .record({ authorization, contentType, extra })
    .map(({ authorization, contentType, extra }) => ({
      ...extra,
      ...(authorization !== undefined ? { authorization } : {}),
      ...(contentType !== undefined ? { 'content-type': contentType } : {}),
    }));
}

/** Requests against any of these routes, on behalf of the account holding `token`. */
export function requestsFor(
  operations: readonly Operation[],
  known: Known,
  token: string,
): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(fc.constantFrom(...operations), fc.constantFrom<Noise>('clean', 'noisy', 'noisy'))
    .chain(([op, noise]) => {
      const segments = op.pathParams.map((name) => segmentOf(name, known, noise));
      const hasBody = op.method !== 'GET';
      return fc
        .record({
          segments: fc.tuple(...segments),
          query: queryOf(op, known, noise),
          headers: headersOf(token, noise),
          body: hasBody ? bodyOf(op, known, noise) : fc.constant(undefined),
        })
        .map(({ segments: values, query, headers, body }) => {
          let i = 0;
          const path = op.path.replace(/\{\w+\}/g, () => values[i++] ?? '');
          return {
            method: op.method,
            path: `${path}${query}`,
            headers,
            body,
            route: `${noise} ${op.method} ${op.path}`,
          };
        });
    });
}
