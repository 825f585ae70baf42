import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness, watchAccount } from './support/harness.ts';
import { Receiver } from './support/receiver.ts';
import { touchEvent } from './support/events.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { createAdminToken, revokeAdminTokens } from '../src/core/admin-tokens.ts';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN_TOKEN = 'operator-token-for-the-dashboard';
/** Screenshots of the main views go to docs/ when asked for, else nowhere anyone looks. */
const shots = process.env.CALPUSH_DASHBOARD_SCREENSHOTS
  ? new URL('../docs/', import.meta.url).pathname
  : mkdtempSync(join(tmpdir(), 'calpush-dashboard-'));

/** Resolves once `check` holds, looking again after each recorded batch of outcomes. */
async function until(h: Harness, check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        h.service.dispatcher.events.off('recorded', done);
        resolve();
      }, 200);
      h.service.dispatcher.events.once('recorded', done);
    });
  }
}

describe('the dashboard', () => {
  let receiver: Receiver;
  let h: Harness;
  let account: TestAccount;

  before(async () => {
    receiver = await Receiver.start();
    h = await startHarness({
      start: true,
      listen: true,
      env: { CALPUSH_ADMIN_TOKEN: ADMIN_TOKEN, CALPUSH_MIN_INTERVAL_MS: '0' },
    });
    account = await createTestAccount(h.service);
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  test('signs in with a session cookie and refuses writes without the CSRF token', async () => {
    const login = await h.service.app.request('/dashboard/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${ADMIN_TOKEN}`,
    });
    assert.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const session = cookie.split(';')[0] ?? '';
    const read = await h.service.app.request('/admin/v1/clients', { headers: { cookie: session } });
    assert.equal(read.status, 200);
    const page = await (
      await h.service.app.request('/dashboard', { headers: { cookie: session } })
    ).text();
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(page)?.[1] ?? '';
    assert.ok(csrf);
    const ch = await watchAccount(h.service, account, `${receiver.url}/csrf`);
    const forged = await h.service.app.request(`/admin/v1/channels/${ch.id}/test`, {
      method: 'POST',
      headers: { cookie: session },
    });
    assert.equal(forged.status, 403);
    const allowed = await h.service.app.request(`/admin/v1/channels/${ch.id}/test`, {
      method: 'POST',
      headers: { cookie: session, 'x-csrf-token': csrf },
    });
    assert.equal(allowed.status, 202);
    const wrong = await h.service.app.request('/dashboard/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=guess',
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
  });

  test(
    'in Chromium: sign in, find the failing channel, read its attempts, replay, see the success',
    {
      skip: existsSync(CHROMIUM)
        ? false
        : `${CHROMIUM} is not installed (apt-get install chromium)`,
    },
    async () => {
      receiver.reply = { status: 200 };
      const ch = await watchAccount(h.service, account, `${receiver.url}/hook`);
      await receiver.waitFor((r) => r.some((q) => q.path === '/hook'));
      // The receiver says the channel is gone: it closes at once, its change undelivered.
      receiver.reply = (req) =>
        req.path === '/hook' ? { status: 410, body: 'gone away' } : { status: 200 };
      await touchEvent(h.service, account, 'lost-change');
      const channelState = async () =>
        (
          await h.service.store.db
            .selectFrom('channels')
            .select('state')
            .where('id', '=', ch.id)
            .executeTakeFirstOrThrow()
        ).state;
      await until(h, async () => (await channelState()) === 'closed', 'the channel to close');
      receiver.reply = { status: 200 };

      let browser: Browser | undefined;
      try {
        browser = await chromium.launch({
          executablePath: CHROMIUM,
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        });
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        await page.goto(`${h.url}/dashboard`);
        await page.screenshot({ path: join(shots, 'dashboard-login.png') });
        await page.fill('#token', ADMIN_TOKEN);
        await page.click('button[type=submit]');
        await page.locator('.live.on').waitFor();

        const row = page.locator('[data-testid=channel-row]', { hasText: ch.id });
        await row.locator('[data-testid=channel-state]', { hasText: 'closed' }).waitFor();
        await page.screenshot({ path: join(shots, 'dashboard-channels.png'), fullPage: true });
        await row.locator('[data-testid=channel-link]').click();
        const failed = page.locator('[data-testid=attempt-row]', { hasText: '410' });
        await failed.waitFor();
        assert.match((await failed.textContent()) ?? '', /close/);
        const lost = String(
          receiver.requests.filter((r) => r.path === '/hook').at(-1)?.headers[
            'calpush-notification-id'
          ],
        );

        const before = receiver.requests.length;
        await page.click('[data-testid=reactivate]');
        await page.locator('[data-testid=health-state]', { hasText: 'active' }).waitFor();
        await receiver.waitFor((r) => r.length > before);
        const verification = JSON.parse(receiver.requests[before]?.body ?? '{}') as {
          notification?: { type?: string };
        };
        assert.equal(verification.notification?.type, 'verification');

        await page
          .locator('[data-testid=attempt-row]', { hasText: lost })
          .filter({ hasText: '410' })
          .locator('[data-testid=replay-notification]')
          .click();
        await receiver.waitFor((r) =>
          r.some(
            (q) =>
              q.headers['calpush-replay'] === '1' && q.headers['calpush-notification-id'] === lost,
          ),
        );
        // The success arrives on the page by the event stream.
        await page
          .locator('[data-testid=live-feed] li', { hasText: lost })
          .filter({ hasText: /delivered.*\(replay\)/ })
          .waitFor();
        await page
          .locator('[data-testid=attempt-row]', { hasText: 'replay' })
          .filter({ hasText: 'delivered' })
          .first()
          .waitFor();
        await page.screenshot({ path: join(shots, 'dashboard-channel.png'), fullPage: true });
      } finally {
        await browser?.close();
      }
    },
  );
});

describe('dashboard sessions and the operator token', () => {
  let h: Harness;
  const clock = new ManualClock(Date.UTC(2026, 5, 1));

  before(async () => {
    h = await startHarness({ clock, env: { CALPUSH_ADMIN_TOKEN: ADMIN_TOKEN } });
  });
  after(async () => {
    await h.close();
  });

  async function signIn(token: string): Promise<string> {
    const login = await h.service.app.request('/dashboard/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(token)}`,
    });
    assert.equal(login.status, 303);
    return (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  }

  test('a session ends once its stored token is revoked, within the cache time', async () => {
    const stored = await createAdminToken(h.service.core, 'night shift');
    const session = await signIn(stored);
    const read = () => h.service.app.request('/admin/v1/clients', { headers: { cookie: session } });
    assert.equal((await read()).status, 200);
    await revokeAdminTokens(h.service.core);
    clock.advance(31_000);
    assert.equal((await read()).status, 401);
    const page = await (
      await h.service.app.request('/dashboard', { headers: { cookie: session } })
    ).text();
    assert.match(page, /Operator token/);
  });

  test('the live feed of a session closes once its token is revoked', async () => {
    const receiver = await Receiver.start();
    try {
      const stored = await createAdminToken(h.service.core, 'watcher');
      const session = await signIn(stored);
      const feed = await h.service.app.request('/admin/v1/events', {
        headers: { cookie: session },
      });
      assert.equal(feed.status, 200);
      const reader = feed.body!.pipeThrough(new TextDecoderStream()).getReader();
      let seen = '';
      while (!seen.includes('event: ready')) seen += (await reader.read()).value ?? '';
      await revokeAdminTokens(h.service.core);
      clock.advance(31_000);
      // An attempt recorded wakes the stream, which asks again and finds the session gone.
      const account = await createTestAccount(h.service);
      await watchAccount(h.service, account, receiver.url);
      await h.service.dispatcher.runUntilIdle();
      let rest = '';
      for (let part = await reader.read(); !part.done; part = await reader.read()) {
        rest += part.value;
      }
      assert.doesNotMatch(rest, /event: attempt/);
    } finally {
      await receiver.close();
    }
  });

  test('a session opened with the configured token outlives revoke-all', async () => {
    const session = await signIn(ADMIN_TOKEN);
    await revokeAdminTokens(h.service.core);
    clock.advance(31_000);
    const read = await h.service.app.request('/admin/v1/clients', { headers: { cookie: session } });
    assert.equal(read.status, 200);
  });

  test('logout needs the session CSRF token', async () => {
    const session = await signIn(ADMIN_TOKEN);
    const out = await h.service.app.request('/dashboard/logout', {
      method: 'POST',
      headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf=wrong',
    });
    assert.equal(out.status, 303);
    const read = await h.service.app.request('/admin/v1/clients', { headers: { cookie: session } });
    assert.equal(read.status, 200);
  });

  test('the cookie is Secure when the request came over https', async () => {
    const login = await h.service.app.request('/dashboard/login', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-proto': 'https',
      },
      body: `token=${ADMIN_TOKEN}`,
    });
    assert.match(login.headers.get('set-cookie') ?? '', /; Secure/);
  });
});
