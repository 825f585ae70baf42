import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { engines } from './support/postgres.ts';
import { ChildServer } from './support/child-server.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { readFileSync } from 'node:fs';
import { Feed } from './support/ics-feed.ts';
import { callApi } from './support/api.ts';
import { ConfigError, loadConfig } from '../src/config/config.ts';

const TOKEN = 'metrics-token-for-tests-0123456789';

/** One sample's value from Prometheus text; 0 when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '').split(',').filter((l) => l !== '');
    if (wanted.length === have.length && wanted.every((l) => have.includes(l))) {
      return Number(match[3]);
    }
  }
  return 0;
}

for (const engine of engines) {
  describe(`/metrics on ${engine} (real server, real receivers)`, () => {
    let good: Receiver;
    let bad: Receiver;
    let h: Harness;
    let account: TestAccount;
    const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));

    before(async () => {
      good = await Receiver.start();
      bad = await Receiver.start();
      bad.reply = { status: 500 };
      h = await startHarness({
        clock,
        random: () => 0.5,
        engine,
        listen: true,
        env: { CALPUSH_METRICS_TOKEN: TOKEN },
      });
      account = await createTestAccount(h.service);
    });
    after(async () => {
      await h.close();
      await good.close();
      await bad.close();
    });

    const scrape = async (token = TOKEN) => {
      const res = await fetch(`${h.url}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      return res.text();
    };
    const openChannel = async (callbackUrl: string) => {
      const res = await fetch(`${h.url}/v1/channels`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${account.accessToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ callback_url: callbackUrl }),
      });
      assert.equal(res.status, 200);
    };

    test('a scrape without the token is refused', async () => {
      const none = await fetch(`${h.url}/metrics`);
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      const wrong = await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 401);
    });

    test('counters and gauges move by exactly the deliveries and requests made', async () => {
      const route = { method: 'POST', route: '/v1/channels', status: '200' };
      const before = await scrape();
      // Five channels to a receiver that takes their verification, two to one answering 500.
      for (let i = 0; i < 5; i++) await openChannel(`${good.url}/ok/${i}`);
      for (let i = 0; i < 2; i++) await openChannel(`${bad.url}/fail/${i}`);
      clock.advance(5000);

      const backlog = await scrape();
      assert.equal(
        sample(backlog, 'calpush_queue_depth'),
        sample(before, 'calpush_queue_depth') + 7,
      );
      assert.equal(sample(backlog, 'calpush_queue_oldest_due_age_seconds'), 5);
      assert.equal(sample(backlog, 'calpush_channels', { state: 'active' }), 7);
      assert.equal(
        sample(backlog, 'calpush_http_requests_total', route),
        sample(before, 'calpush_http_requests_total', route) + 7,
      );

      await h.service.dispatcher.runUntilIdle();
      await good.waitForCount(5);
      await bad.waitForCount(2);
      const done = await scrape();
      const moved = (name: string, labels: Record<string, string>) =>
        sample(done, name, labels) - sample(before, name, labels);
      const cronofy = { dialect: 'cronofy' };
      assert.equal(
        moved('calpush_delivery_attempts_total', { ...cronofy, outcome: 'delivered' }),
        5,
      );
      assert.equal(moved('calpush_delivery_attempts_total', { ...cronofy, outcome: 'failed' }), 2);
      assert.equal(moved('calpush_delivery_attempts_total', { ...cronofy, outcome: 'closed' }), 0);
      assert.equal(moved('calpush_delivery_latency_seconds_count', cronofy), 5);
      assert.equal(moved('calpush_delivery_attempt_duration_seconds_count', cronofy), 7);
      // Queued at the commit, received 5 s later on the test's clock (plus the request).
      const latency = moved('calpush_delivery_latency_seconds_sum', cronofy);
      assert.ok(latency >= 25 && latency < 30, `latency sum ${latency}`);
      assert.equal(
        moved('calpush_delivery_latency_seconds_bucket', { ...cronofy, le: '2.5' }),
        0,
        'no notification arrived sooner than its 5 s wait',
      );
      // The two failed notifications wait for their retry: still queued, not yet due.
      assert.equal(sample(done, 'calpush_queue_depth'), 2);
      assert.equal(sample(done, 'calpush_queue_oldest_due_age_seconds'), 0);
      assert.equal(sample(done, 'calpush_channels', { state: 'active' }), 5);
      assert.equal(sample(done, 'calpush_channels', { state: 'failing' }), 2);
      assert.equal(sample(done, 'calpush_channels', { state: 'closed' }), 0);
      // Scrapes count too, under their own route; the channel requests did not move again.
      assert.equal(moved('calpush_http_requests_total', route), 7);
      assert.equal(
        moved('calpush_http_requests_total', { method: 'GET', route: '/metrics', status: '200' }),
        2,
      );
    });

    test('requests are counted by route pattern, not by raw path', async () => {
      const before = await scrape();
      for (const id of ['cal_a', 'cal_b', 'cal_c']) {
        await fetch(`${h.url}/v1/calendars/${id}/events`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${account.accessToken}` },
        });
      }
      const after = await scrape();
      const counted = (text: string) =>
        text
          .split('\n')
          .filter((l) => l.startsWith('calpush_http_requests_total{') && l.includes('DELETE'));
      for (const line of counted(after)) {
        assert.match(line, /route="\/v1\/calendars\/:calendarId\/events"/);
      }
      assert.ok(!after.includes('cal_a'), 'a raw path leaked into a label');
      const total = (text: string) =>
        counted(text).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
      assert.equal(total(after) - total(before), 3);
    });
  });
}

test('without a token /metrics is 404 on the main port and served on CALPUSH_METRICS_PORT', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'calpush-metrics-'));
  let out = '';
  const server = await ChildServer.start(
    dataDir,
    { CALPUSH_METRICS_PORT: '0', CALPUSH_METRICS_TOKEN: '', CALPUSH_ADMIN_TOKEN: '' },
    { onStdout: (d) => (out += d.toString()) },
  );
  try {
    assert.equal((await fetch(`${server.url}/metrics`)).status, 404);
    const url = /calpush metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(out)?.[1];
    assert.ok(url, out);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^calpush_queue_depth 0$/m);
    assert.match(text, /^calpush_channels\{state="active"\} 0$/m);
    assert.match(text, /^process_cpu_seconds_total /m);
    assert.equal((await fetch(url.replace('/metrics', '/other'))).status, 404);
  } finally {
    await server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('source polls are counted by provider and outcome', async () => {
  const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
  const feed = new Feed();
  await feed.start();
  feed.publish([
    [
      'BEGIN:VEVENT',
      'UID:a@test',
      'DTSTAMP:20261201T000000Z',
      'DTSTART:20261207T090000Z',
      'DTEND:20261207T100000Z',
      'SUMMARY:Stand-up',
      'END:VEVENT',
    ].join('\r\n'),
  ]);
  const h = await startHarness({ clock });
  try {
    const account = await createTestAccount(h.service);
    const polls = async (outcome: string) =>
      sample(await h.service.metrics.render(), 'calpush_source_polls_total', {
        provider: 'ics',
        outcome,
      });
    const created = await callApi(h.service, account.accessToken, 'POST', '/v1/sources', {
      provider: 'ics',
      url: feed.url,
    });
    assert.equal(created.status, 201);
    await h.service.sources.runUntilIdle();
    assert.equal(await polls('changed'), 1);
    // Past the feed's 15-minute interval and its jitter: asked again, nothing new.
    clock.advance(17 * 60 * 1000);
    await h.service.sources.runUntilIdle();
    assert.equal(await polls('unchanged'), 1);
    feed.body = 'not a calendar';
    feed.version++;
    clock.advance(17 * 60 * 1000);
    await h.service.sources.runUntilIdle();
    assert.equal(await polls('failed'), 1);
    assert.equal(await polls('changed'), 1);
    const text = await h.service.metrics.render();
    assert.equal(
      sample(text, 'calpush_source_poll_duration_seconds_count', { provider: 'ics' }),
      3,
    );
  } finally {
    await h.close();
    await feed.close();
  }
});

test('docs/metrics.md lists every metric, and the Grafana dashboard uses only real ones', async () => {
  const h = await startHarness({ env: { CALPUSH_METRICS_TOKEN: TOKEN } });
  try {
    const text = await h.service.metrics.render();
    const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({
      name: m[1]!,
      type: m[2]!,
    }));
    const ours = families.filter((f) => f.name.startsWith('calpush_'));
    assert.ok(ours.length >= 11);
    const doc = readFileSync(new URL('../docs/metrics.md', import.meta.url), 'utf8');
    for (const f of ours) {
      assert.ok(doc.includes(`\`${f.name}\``), `docs/metrics.md does not list ${f.name}`);
    }
    const listed = [...doc.matchAll(/`(calpush_[a-z_]+)`/g)].map((m) => m[1]!);
    for (const name of listed) {
      assert.ok(
        ours.some((f) => f.name === name),
        `docs/metrics.md lists ${name}, which is not exposed`,
      );
    }
    const dashboard = JSON.parse(
      readFileSync(new URL('../docs/grafana-calpush.json', import.meta.url), 'utf8'),
    ) as { panels: { targets?: { expr: string }[] }[] };
    const exposed = new Set(families.map((f) => f.name));
    const used = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    assert.ok(used.length > 10);
    for (const expr of used) {
      for (const [name] of expr.matchAll(/\b(?:calpush|process|nodejs)_[a-z0-9_]+/g)) {
        const family = name.replace(/_(bucket|sum|count)$/, '');
        assert.ok(
          exposed.has(name) || exposed.has(family),
          `the dashboard uses ${name}, which is not exposed`,
        );
      }
    }
  } finally {
    await h.close();
  }
});

test('the metrics settings: their own token first, else the operator token; a port on loopback', () => {
  const admin = 'operator-token-0123456789';
  const metricsOf = (env: NodeJS.ProcessEnv) => loadConfig({}, env).metrics;
  assert.deepEqual(metricsOf({}), { token: undefined, port: undefined, host: '127.0.0.1' });
  assert.equal(metricsOf({ CALPUSH_ADMIN_TOKEN: admin }).token, admin);
  assert.equal(
    metricsOf({ CALPUSH_ADMIN_TOKEN: admin, CALPUSH_METRICS_TOKEN: TOKEN }).token,
    TOKEN,
  );
  assert.deepEqual(metricsOf({ CALPUSH_METRICS_PORT: '9464', CALPUSH_METRICS_HOST: '10.0.0.5' }), {
    token: undefined,
    port: 9464,
    host: '10.0.0.5',
  });
  assert.throws(() => metricsOf({ CALPUSH_METRICS_TOKEN: 'short' }), ConfigError);
  assert.throws(() => metricsOf({ CALPUSH_METRICS_PORT: 'nine' }), /metrics\.port/);
});
