import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closedForFailures, errorClassOf } from './attempt-log.ts';

test('a failed attempt is classed by its status, else by its transport error', () => {
  assert.equal(errorClassOf(true, 200, null), null);
  assert.equal(errorClassOf(false, 500, null), 'http_status');
  assert.equal(errorClassOf(false, 200, null), 'http_status', 'a status the dialect refused');
  assert.equal(errorClassOf(false, null, 'timed out after 5000 ms'), 'timeout');
  assert.equal(
    errorClassOf(false, null, 'UND_ERR_HEADERS_TIMEOUT: Headers Timeout Error'),
    'timeout',
  );
  assert.equal(
    errorClassOf(false, null, 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9'),
    'refused',
  );
  assert.equal(errorClassOf(false, null, 'UND_ERR_SOCKET: other side closed'), 'reset');
  assert.equal(errorClassOf(false, null, 'ENOTFOUND: getaddrinfo ENOTFOUND x.invalid'), 'dns');
  assert.equal(errorClassOf(false, null, 'unable to verify the first certificate'), 'tls');
  assert.equal(errorClassOf(false, null, 'refusing non-public address 10.0.0.1'), 'unsafe_address');
  assert.equal(errorClassOf(false, null, 'no response'), 'other');
});

test('only a close for delivery failures may be undone', () => {
  assert.equal(closedForFailures('delivery failed continuously for 24 hours'), true);
  assert.equal(closedForFailures('the receiver answered 410 Gone'), true);
  assert.equal(closedForFailures('closed by client'), false);
  assert.equal(closedForFailures('expired'), false);
  assert.equal(closedForFailures(null), false);
});
