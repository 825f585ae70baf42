import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config/config.ts';

test('numeric settings: unset or empty take the default, anything but a whole number is refused', () => {
  assert.equal(loadConfig({}, {}).delivery.minIntervalMs, 250);
  assert.equal(loadConfig({}, { CALPUSH_MIN_INTERVAL_MS: '' }).delivery.minIntervalMs, 250);
  assert.equal(loadConfig({}, { CALPUSH_MIN_INTERVAL_MS: '0' }).delivery.minIntervalMs, 0);
  assert.equal(loadConfig({}, { CALPUSH_RATE_LIMIT: ' 20 ' }).rateLimitPerSecond, 20);
  assert.equal(loadConfig({}, {}).http.tokenCacheMs, 1000);
  assert.equal(loadConfig({}, { CALPUSH_TOKEN_CACHE_MS: '0' }).http.tokenCacheMs, 0);
  assert.equal(loadConfig({}, {}).http.requestTimeoutMs, 30_000);
  assert.equal(loadConfig({}, {}).http.maxConnections, 1024);
  assert.equal(loadConfig({}, { CALPUSH_MAX_CONNECTIONS: '64' }).http.maxConnections, 64);
  assert.equal(loadConfig({}, {}).deliveryLogDays, 7);
  assert.equal(loadConfig({}, { CALPUSH_DELIVERY_LOG_DAYS: '30' }).deliveryLogDays, 30);
  assert.equal(loadConfig({}, {}).adminToken, undefined);
  for (const [name, value] of [
    ['CALPUSH_MIN_INTERVAL_MS', '0x10'],
    ['CALPUSH_MIN_INTERVAL_MS', '-5'],
    ['CALPUSH_MIN_INTERVAL_MS', '1e3'],
    ['CALPUSH_MIN_INTERVAL_MS', '60001'],
    ['CALPUSH_RATE_LIMIT', 'lots'],
    ['CALPUSH_MAX_IN_FLIGHT', '0'],
    ['CALPUSH_TOKEN_CACHE_MS', 'soon'],
    ['CALPUSH_TOKEN_CACHE_MS', '60001'],
    ['CALPUSH_REQUEST_TIMEOUT_MS', '0'],
    ['CALPUSH_MAX_CONNECTIONS', '0'],
    ['CALPUSH_DELIVERY_LOG_DAYS', '0'],
    ['CALPUSH_ADMIN_TOKEN', 'short'],
  ] as const) {
    assert.throws(() => loadConfig({}, { [name]: value }), ConfigError, `${name}=${value}`);
  }
});

test('the delivery lease and the PostgreSQL session bounds: defaults, settings, and the lease rule', () => {
  const defaults = loadConfig({}, {});
  assert.equal(defaults.delivery.leaseMs, 60_000);
  assert.deepEqual(defaults.postgres, {
    poolSize: 10,
    deliveryPoolSize: 3,
    acquireTimeoutMs: 10_000,
    statementTimeoutMs: 30_000,
    lockTimeoutMs: 5_000,
    idleInTransactionTimeoutMs: 10_000,
  });
  const set = loadConfig(
    {},
    {
      CALPUSH_DELIVERY_LEASE_MS: '11000',
      CALPUSH_PG_POOL_SIZE: '4',
      CALPUSH_PG_DELIVERY_POOL_SIZE: '2',
      CALPUSH_PG_ACQUIRE_TIMEOUT_MS: '2000',
      CALPUSH_PG_STATEMENT_TIMEOUT_MS: '20000',
      CALPUSH_PG_LOCK_TIMEOUT_MS: '3000',
      CALPUSH_PG_IDLE_TX_TIMEOUT_MS: '2000',
    },
  );
  assert.equal(set.delivery.leaseMs, 11_000);
  assert.deepEqual(set.postgres, {
    poolSize: 4,
    deliveryPoolSize: 2,
    acquireTimeoutMs: 2_000,
    statementTimeoutMs: 20_000,
    lockTimeoutMs: 3_000,
    idleInTransactionTimeoutMs: 2_000,
  });
  // A claim may wait half its lease for a slot and then be on the wire for the 5 s timeout.
  assert.throws(
    () => loadConfig({}, { CALPUSH_DELIVERY_LEASE_MS: '10999' }),
    /CALPUSH_DELIVERY_LEASE_MS must be at least twice the send timeout plus a second/,
  );
  for (const name of [
    'CALPUSH_PG_POOL_SIZE',
    'CALPUSH_PG_DELIVERY_POOL_SIZE',
    'CALPUSH_PG_LOCK_TIMEOUT_MS',
    'CALPUSH_PG_IDLE_TX_TIMEOUT_MS',
  ]) {
    assert.throws(() => loadConfig({}, { [name]: '0' }), ConfigError, name);
  }
  assert.throws(() => loadConfig({}, { CALPUSH_PG_POOL_SIZE: '1001' }), ConfigError);
  assert.throws(() => loadConfig({}, { CALPUSH_PG_DELIVERY_POOL_SIZE: '101' }), ConfigError);
});

test('Google sources: Google by default, any compatible server by setting, push only with a public URL given', () => {
  const defaults = loadConfig({}, {});
  assert.deepEqual(defaults.google, {
    apiUrl: 'https://www.googleapis.com/calendar/v3',
    oauthUrl: 'https://oauth2.googleapis.com',
    authUrl: 'https://accounts.google.com',
    clientId: undefined,
    clientSecret: undefined,
    push: true,
  });
  assert.equal(defaults.publicUrlGiven, false);
  const set = loadConfig(
    { publicUrl: 'https://calpush.example.com/' },
    {
      CALPUSH_GOOGLE_API_URL: 'http://upstream.internal:8080/calendar/v3/',
      CALPUSH_GOOGLE_OAUTH_URL: 'http://oauth.internal',
      CALPUSH_GOOGLE_CLIENT_ID: 'app',
      CALPUSH_GOOGLE_CLIENT_SECRET: 'secret',
      CALPUSH_GOOGLE_PUSH: '0',
    },
  );
  assert.equal(set.google.apiUrl, 'http://upstream.internal:8080/calendar/v3');
  assert.equal(set.google.oauthUrl, 'http://oauth.internal');
  assert.equal(set.google.clientId, 'app');
  assert.equal(set.google.push, false);
  assert.equal(set.publicUrl, 'https://calpush.example.com');
  assert.equal(set.publicUrlGiven, true);
  assert.throws(() => loadConfig({}, { CALPUSH_GOOGLE_API_URL: 'not a url' }), ConfigError);
});
