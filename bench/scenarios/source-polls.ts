/**
 * Scenario 8, second part: idle polls per second through the whole server. N sources of one
 * kind (ICS feeds, or CalDAV homes with a password) are written into the store as a
 * completed first sync leaves them, one per account, on a 60 s interval, spread over 8
 * loopback ports of the bench's own upstream server (`poll-upstreams.ts`): with calpush's
 * default bounds (32 polls at once, 4 per host:port) all 32 slots can be busy. Every source
 * is due when a real `calpush serve --dev` starts over that store: its scheduler leases
 * them, polls them through the registered provider and records each poll, as in production.
 *
 * Polls are counted by the upstream's answers, sampled with the server's CPU time (/proc)
 * every 50 ms; the window runs from 10 % of the sources (or the first sample, if later) to
 * 90 % (or a time limit), which leaves out the start-up and the tail. Afterwards the store must show every polled source
 * still `connected` and never changed (each poll was idle). Baseline: the raw limit, a loop
 * sending the same requests with the same bounds and nothing else (`poll-loop.ts`).
 */
import type { BenchContext } from '../context.ts';
import { runScript } from '../context.ts';
import { sleep } from '../clock.ts';
import { BenchServer } from '../server.ts';
import { insertAccounts, insertSources, openBenchStore } from '../setup.ts';
import type { SourceSpec } from '../setup.ts';
import { PollUpstreams } from '../poll-upstreams.ts';
import { SourceState } from '../../test/support/source-state.ts';
import { openStore } from '../../src/store/store.ts';
import { sourceUrl } from '../../src/core/sources.ts';
import { sourceProvidersOver } from '../../src/service.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createOutboundHttp } from '../../src/net/outbound-http.ts';
import { NO_EXCEPTIONS } from '../../src/net/safe-lookup.ts';
import { systemClock } from '../../src/domain/clock.ts';
import type { SourceCredentials } from '../../src/domain/source.ts';

export type PollKind = 'ics' | 'caldav';

export interface PollRate {
  readonly kind: PollKind;
  readonly sources: number;
  readonly rate: number;
  readonly cpuUsPerPoll: number;
  readonly windowSeconds: number;
  readonly polledInWindow: number;
  readonly baselineRate: number;
  readonly baselineCpuUsPerPoll: number;
}

/** Ports the sources are spread over: 8 × 4 per host fill calpush's 32 slots. */
export const UPSTREAM_PORTS = 8;
const INTERVAL_MS = 60_000;
const credentials: SourceCredentials = { username: 'bench', password: 'bench-password' };

interface Template {
  readonly url: string;
  readonly spec: Omit<SourceSpec, 'accountId' | 'sealedPassword' | 'nextPollAt'>;
}

/** Source i's spec: the template's, with its URL wherever the template has its own. */
function specFor(template: Template, url: string): Template['spec'] {
  const swap = <T>(value: T): T =>
    JSON.parse(JSON.stringify(value).replaceAll(template.url, url)) as T;
  return {
    ...template.spec,
    url,
    cursor: swap(template.spec.cursor),
    calendar: swap(template.spec.calendar),
    calendarCursor: swap(template.spec.calendarCursor),
  };
}

/**
 * The state one source has after connecting and a first sync, taken from the registered
 * provider against the upstream (source 0); others are derived from it by URL. Source 1's
 * derived state is then polled by the provider, which must find nothing to do in one request.
 */
async function template(upstreams: PollUpstreams, kind: PollKind): Promise<Template> {
  const http = createOutboundHttp({
    dev: true,
    exceptions: NO_EXCEPTIONS,
    timeoutMs: 10_000,
    maxBodyBytes: 1024 * 1024,
    connectionsPerOrigin: 4,
  });
  try {
    const provider = sourceProvidersOver(http, systemClock, loadConfig({}, {}).google).get(kind);
    if (!provider) throw new Error(`no provider ${kind}`);
    const creds = kind === 'caldav' ? credentials : null;
    const urlOf = (i: number) =>
      sourceUrl(kind === 'ics' ? upstreams.feedUrl(i) : upstreams.davUrl(i));
    const url = urlOf(0);
    const state = new SourceState(url, creds, await provider.connect({ url, credentials: creds }));
    const first = await provider.poll(state.input());
    const calendar = first.calendars[0];
    const change = first.changes[0];
    if (first.calendars.length !== 1 || !calendar || !change) {
      throw new Error(`a first poll of ${url} found ${first.calendars.length} calendars`);
    }
    const t: Template = {
      url,
      spec: {
        provider: kind,
        url,
        username: creds?.username ?? null,
        pollIntervalMs: INTERVAL_MS,
        cursor: first.cursor,
        calendar,
        calendarCursor: change.cursor,
      },
    };
    const other = specFor(t, urlOf(1));
    const derived = new SourceState(other.url, creds, {
      cursor: other.cursor,
      calendars: [other.calendar],
    });
    derived.calendars.get(other.calendar.remoteId)!.cursor = other.calendarCursor;
    const before = upstreams.requests;
    const idle = await provider.poll(derived.input());
    const requests = upstreams.requests - before;
    if (requests !== 1 || idle.changes.length !== 0) {
      throw new Error(`a derived source's poll took ${requests} requests, found changes`);
    }
    if (JSON.stringify(idle.calendars) !== JSON.stringify([other.calendar])) {
      throw new Error(`a derived source's calendar differs: ${JSON.stringify(idle.calendars)}`);
    }
    return t;
  } finally {
    await http.close();
  }
}

interface Sample {
  readonly t: number;
  readonly cpu: number;
  readonly count: number;
}

async function sourcePolls(
  ctx: BenchContext,
  upstreams: PollUpstreams,
  kind: PollKind,
): Promise<PollRate> {
  const n = Math.round(10_000 * ctx.scale);
  const tag = `poll${kind}`;
  const dir = ctx.scratch(tag);
  const setupStart = performance.now();
  const t = await template(upstreams, kind);
  const b = await openBenchStore(dir);
  // Sealed under the data directory's key file, which the server reads too.
  const box = b.core.secrets;
  const accounts = await insertAccounts(b, n, tag);
  const dueAt = Date.now();
  const specs: SourceSpec[] = accounts.map((accountId, i) => ({
    ...specFor(t, sourceUrl(kind === 'ics' ? upstreams.feedUrl(i) : upstreams.davUrl(i))),
    accountId,
    sealedPassword: kind === 'caldav' ? box.seal(credentials.password) : null,
    nextPollAt: dueAt,
  }));
  await insertSources(b, specs, tag);
  await b.store.close();
  ctx.log(
    `  set-up: ${n.toLocaleString('en-US')} ${kind === 'ics' ? 'ICS' : 'CalDAV'} sources, one per account, ` +
      `over ${UPSTREAM_PORTS} loopback ports, written into the store in ` +
      `${((performance.now() - setupStart) / 1000).toFixed(1)} s`,
  );

  upstreams.reset();
  const server = await BenchServer.start({
    dataDir: dir,
    cpuProfDir: ctx.cpuProfDir,
  });
  let samples: Sample[];
  try {
    samples = await watch(server, upstreams, n, ctx.quick ? 10_000 : 25_000);
  } finally {
    await server.stop();
  }
  const check = await openStore({ dataDir: dir });
  const polled = await check.db
    .selectFrom('sources')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('last_polled_at', '>=', dueAt)
    .executeTakeFirstOrThrow();
  const notIdle = await check.db
    .selectFrom('sources')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) => eb.or([eb('last_changed_at', 'is not', null), eb('state', '!=', 'connected')]))
    .executeTakeFirstOrThrow();
  await check.close();
  if (Number(notIdle.n) > 0 || upstreams.unexpected > 0) {
    throw new Error(
      `${notIdle.n} sources changed or failed, ${upstreams.unexpected} unexpected requests: ` +
        'the polls were not idle',
    );
  }

  const lo = Math.ceil(n * 0.1);
  const start = samples.find((s) => s.count >= lo) ?? samples[0]!;
  const end = samples.at(-1)!;
  const polls = end.count - start.count;
  const seconds = (end.t - start.t) / 1000;
  const rate = polls / seconds;
  const cpuUsPerPoll = ((end.cpu - start.cpu) * 1e6) / polls;
  ctx.log(
    `  ${Number(polled.n).toLocaleString('en-US')} sources polled, all idle; window ${start.count}–${end.count} ` +
      `over ${seconds.toFixed(1)} s: ${rate.toFixed(0)} polls/s, server CPU ${(end.cpu - start.cpu).toFixed(2)} s, ` +
      `${cpuUsPerPoll.toFixed(0)} µs per poll, ${((cpuUsPerPoll * 167) / 1e6).toFixed(2)} cores at 167 polls/s`,
  );

  const raw = JSON.parse(
    await runScript('./poll-loop.ts', {
      bases: upstreams.bases,
      count: n,
      kind,
      concurrency: 32,
      perOrigin: 4,
      rounds: 2,
    }),
  ) as { startedAt: number; endedAt: number; cpuUs: number; count: number; unexpected: number };
  if (raw.unexpected > 0) throw new Error(`the raw loop got ${raw.unexpected} unexpected answers`);
  const baselineRate = (raw.count * 1000) / (raw.endedAt - raw.startedAt);
  const baselineCpuUsPerPoll = raw.cpuUs / raw.count;
  ctx.log(
    `  raw limit: ${baselineRate.toFixed(0)} requests/s, ${baselineCpuUsPerPoll.toFixed(0)} µs CPU per request`,
  );
  return {
    kind,
    sources: n,
    rate,
    cpuUsPerPoll,
    windowSeconds: seconds,
    polledInWindow: polls,
    baselineRate,
    baselineCpuUsPerPoll,
  };
}

/** Samples polls and server CPU until 90 % of the sources were polled or time runs out. */
async function watch(
  server: BenchServer,
  upstreams: PollUpstreams,
  n: number,
  limitMs: number,
): Promise<Sample[]> {
  const hi = Math.floor(n * 0.9);
  const deadline = performance.now() + limitMs;
  const samples: Sample[] = [];
  for (;;) {
    const sample = { t: performance.now(), cpu: server.cpuSeconds(), count: upstreams.requests };
    samples.push(sample);
    if (sample.count >= hi || sample.t > deadline) return samples;
    await sleep(50);
  }
}

/** Both kinds, one after the other, against one upstream server in the bench process. */
export async function sourcePollRates(
  ctx: BenchContext,
): Promise<{ ics: PollRate; caldav: PollRate }> {
  const upstreams = await PollUpstreams.start(UPSTREAM_PORTS);
  try {
    const ics = await sourcePolls(ctx, upstreams, 'ics');
    const caldav = await sourcePolls(ctx, upstreams, 'caldav');
    return { ics, caldav };
  } finally {
    await upstreams.close();
  }
}
