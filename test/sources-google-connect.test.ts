import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness, TestAccount } from './support/harness.ts';
import { createTestAccount, startHarness } from './support/harness.ts';
import { GoogleOAuthStandIn } from './support/google-oauth.ts';
import { callApi, settleSources } from './support/api.ts';
import { ManualClock } from '../src/domain/clock.ts';

interface Json {
  source?: { source_id: string; provider: string; state: string };
  connect_url?: string;
  errors?: Record<string, { key: string; description: string }[]>;
}

const appPage = 'https://app.example.com/connected';

describe('connecting a Google account in the browser (OAuth with PKCE)', () => {
  const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
  const oauth = new GoogleOAuthStandIn();
  let a: Harness;
  let b: Harness;
  let upstream: TestAccount;
  let account: TestAccount;

  const call = (method: string, path: string, body?: unknown) =>
    callApi<Json>(b.service, account.accessToken, method, path, body);
  /** A browser's cookies for calpush (b): name → value and path. */
  type Jar = Map<string, { value: string; path: string }>;
  const browser: Jar = new Map();
  /** One browser step: the request, not following its redirect, keeping calpush's cookies. */
  const visit = async (url: string, token?: string, jar: Jar = browser) => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const target = new URL(url);
    if (target.origin === new URL(b.url).origin) {
      const sent = [...jar]
        .filter(([, c]) => target.pathname.startsWith(c.path))
        .map(([name, c]) => `${name}=${c.value}`);
      if (sent.length > 0) headers['cookie'] = sent.join('; ');
    }
    const response = await fetch(url, { redirect: 'manual', headers });
    const cookies = response.headers.getSetCookie();
    for (const line of cookies) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const [name = '', value = ''] = pair.split('=');
      const path = attributes.find((a) => a.startsWith('Path='))?.slice(5) ?? '/';
      if (/Max-Age=0/.test(line)) jar.delete(name);
      else jar.set(name, { value, path });
    }
    const text = await response.text();
    return {
      status: response.status,
      location: response.headers.get('location') ?? '',
      cookies,
      json: (text ? JSON.parse(text) : {}) as Json,
    };
  };

  before(async () => {
    await oauth.start();
    a = await startHarness({ listen: true });
    upstream = await createTestAccount(a.service, 'upstream@example.com');
    oauth.grants.set('rt-browser', upstream.accessToken);
    oauth.nextConsentRefreshToken = 'rt-browser';
    b = await startHarness({
      clock,
      listen: true,
      env: {
        CALPUSH_GOOGLE_API_URL: `${a.url}/calendar/v3`,
        CALPUSH_GOOGLE_OAUTH_URL: oauth.url,
        CALPUSH_GOOGLE_AUTH_URL: oauth.url,
        CALPUSH_GOOGLE_CLIENT_ID: oauth.clientId,
        CALPUSH_GOOGLE_CLIENT_SECRET: oauth.clientSecret,
        CALPUSH_GOOGLE_PUSH: '0',
      },
    });
    account = await createTestAccount(b.service, 'downstream@example.com');
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await oauth.close();
  });

  test('the account token starts it; consent, callback, and the source is made', async () => {
    const start = await visit(
      `${b.url}/v1/sources/connect/google?redirect_uri=${encodeURIComponent(appPage)}&state=abc123`,
      account.accessToken,
    );
    assert.equal(start.status, 302);
    const consent = new URL(start.location);
    assert.equal(consent.origin + consent.pathname, `${oauth.url}/o/oauth2/v2/auth`);
    const q = consent.searchParams;
    assert.equal(q.get('client_id'), oauth.clientId);
    assert.equal(q.get('redirect_uri'), `${b.url}/v1/sources/connect/google/callback`);
    assert.equal(q.get('scope'), 'https://www.googleapis.com/auth/calendar.readonly');
    assert.equal(q.get('access_type'), 'offline');
    assert.equal(q.get('prompt'), 'consent');
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.ok((q.get('code_challenge') ?? '').length >= 43);
    assert.ok(!q.get('state')?.includes('abc123'), 'the state is sealed');

    const granted = await visit(start.location);
    assert.equal(granted.status, 302);
    assert.ok(granted.location.startsWith(`${b.url}/v1/sources/connect/google/callback?`));
    const cookiesBefore: Jar = new Map(browser);
    const back = await visit(granted.location);
    assert.equal(back.status, 302);
    const done = new URL(back.location);
    assert.equal(done.origin + done.pathname, appPage);
    assert.equal(done.searchParams.get('state'), 'abc123');
    const sourceId = done.searchParams.get('source_id') ?? '';
    assert.match(sourceId, /^src_/);
    // The code was traded with the verifier the challenge was made from.
    const exchange = oauth.tokenRequests.find((r) => r.grantType === 'authorization_code');
    assert.ok(exchange?.form.get('code_verifier'));

    await settleSources(b.service, clock);
    const source = await call('GET', `/v1/sources/${sourceId}`);
    assert.equal(source.json.source?.provider, 'google');
    assert.equal(source.json.source?.state, 'connected');

    // The callback spends the browser's nonce: the same callback again is refused.
    assert.equal((await visit(granted.location)).status, 422);
    // A code is good once: with the nonce kept, the same callback ends at the app with an error.
    const again = new URL((await visit(granted.location, undefined, cookiesBefore)).location);
    assert.equal(again.searchParams.get('error'), 'access_denied');
    assert.equal(again.searchParams.get('state'), 'abc123');
  });

  test('a link made by the API starts it without the account token, for ten minutes', async () => {
    const made = await call('POST', '/v1/sources/connect/google', {
      redirect_uri: appPage,
      state: 'link-state',
    });
    assert.equal(made.status, 201);
    const link = made.json.connect_url!;
    assert.ok(link.startsWith(`${b.url}/v1/sources/connect/google?link=`));
    const start = await visit(link);
    assert.equal(start.status, 302);
    assert.ok(start.location.startsWith(`${oauth.url}/o/oauth2/v2/auth?`));
    clock.advance(11 * 60_000);
    const late = await visit(link);
    assert.equal(late.status, 422);
    assert.ok(late.json.errors?.['link']);
  });

  test('a refusal on the consent page goes back to the app as an error', async () => {
    const start = await visit(
      `${b.url}/v1/sources/connect/google?redirect_uri=${encodeURIComponent(appPage)}&state=no`,
      account.accessToken,
    );
    const state = new URL(start.location).searchParams.get('state') ?? '';
    const back = await visit(
      `${b.url}/v1/sources/connect/google/callback?error=access_denied&state=${encodeURIComponent(state)}`,
    );
    const done = new URL(back.location);
    assert.equal(done.searchParams.get('error'), 'access_denied');
    assert.equal(done.searchParams.get('state'), 'no');
    assert.equal(done.searchParams.get('source_id'), null);
  });

  test('bad requests are Cronofy errors, and nothing is redirected on a state not ours', async () => {
    const noToken = await visit(
      `${b.url}/v1/sources/connect/google?redirect_uri=${encodeURIComponent(appPage)}&state=x`,
    );
    assert.equal(noToken.status, 401);
    const noRedirect = await visit(
      `${b.url}/v1/sources/connect/google?state=x`,
      account.accessToken,
    );
    assert.equal(noRedirect.status, 422);
    assert.ok(noRedirect.json.errors?.['redirect_uri']);
    const badRedirect = await visit(
      `${b.url}/v1/sources/connect/google?redirect_uri=notaurl&state=x`,
      account.accessToken,
    );
    assert.equal(badRedirect.status, 422);
    const forged = await visit(`${b.url}/v1/sources/connect/google/callback?code=x&state=forged`);
    assert.equal(forged.status, 422);
    assert.ok(forged.json.errors?.['state']);
    const ics = await visit(
      `${b.url}/v1/sources/connect/ics?redirect_uri=${encodeURIComponent(appPage)}&state=x`,
      account.accessToken,
    );
    assert.equal(ics.status, 422);
    assert.ok(ics.json.errors?.['provider']);
  });

  test('the start sets a nonce cookie only the callback sees', async () => {
    const start = await visit(
      `${b.url}/v1/sources/connect/google?redirect_uri=${encodeURIComponent(appPage)}&state=c`,
      account.accessToken,
      new Map(),
    );
    const cookie = start.cookies.find((line) => line.startsWith('calpush_connect='));
    assert.ok(cookie, 'a nonce cookie is set');
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(cookie, /Path=\/v1\/sources\/connect\/google\/callback/);
  });

  test('a callback in a browser that did not start the flow is refused; no source', async () => {
    const before = await call('GET', '/v1/sources');
    // The attacker starts the flow and consents in their own browser…
    const attacker: Jar = new Map();
    const made = await call('POST', '/v1/sources/connect/google', {
      redirect_uri: appPage,
      state: 'csrf',
    });
    const start = await visit(made.json.connect_url!, undefined, attacker);
    const granted = await visit(start.location, undefined, attacker);
    // …then sends the victim's browser to the callback.
    const victim: Jar = new Map();
    const lured = await visit(granted.location, undefined, victim);
    assert.equal(lured.status, 422);
    assert.ok(lured.json.errors?.['state']);
    assert.equal(lured.location, '');
    // A cookie from another start does not match either.
    await visit(
      `${b.url}/v1/sources/connect/google?redirect_uri=${encodeURIComponent(appPage)}&state=v`,
      account.accessToken,
      victim,
    );
    const mismatched = await visit(granted.location, undefined, victim);
    assert.equal(mismatched.status, 422);
    const after = await call('GET', '/v1/sources');
    assert.deepEqual(after.json, before.json);
  });

  test('the error path redirects only the browser that started the flow', async () => {
    const start = await visit(
      `${b.url}/v1/sources/connect/google?redirect_uri=${encodeURIComponent(appPage)}&state=e`,
      account.accessToken,
      new Map(),
    );
    const state = new URL(start.location).searchParams.get('state') ?? '';
    const elsewhere = await visit(
      `${b.url}/v1/sources/connect/google/callback?error=x&state=${encodeURIComponent(state)}`,
      undefined,
      new Map(),
    );
    assert.equal(elsewhere.status, 422);
    assert.equal(elsewhere.location, '');
  });
});
