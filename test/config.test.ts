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
  ] as const) {
    assert.throws(() => loadConfig({}, { [name]: value }), ConfigError, `${name}=${value}`);
  }
});
