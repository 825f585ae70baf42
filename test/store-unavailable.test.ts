import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { createLogger } from '../src/log.ts';
import { createCronofyErrorHandler } from '../src/faces/cronofy/errors.ts';
import { createGoogleErrorHandler } from '../src/faces/google/errors.ts';

/** What a statement meets when its session is ended under it (a restart, a failover). */
const terminated = () =>
  Object.assign(new Error('terminating connection due to administrator command'), {
    code: '57P01',
  });

function faceFailing(handler: ReturnType<typeof createCronofyErrorHandler>, err: () => Error) {
  const app = new Hono();
  app.post('/write', () => {
    throw err();
  });
  app.onError(handler);
  return app;
}

const logger = createLogger('silent');

test('each face answers a store that is away with a 503 in its own format, to be retried', async () => {
  const cronofy = await faceFailing(createCronofyErrorHandler(logger), terminated).request(
    '/write',
    { method: 'POST' },
  );
  assert.equal(cronofy.status, 503);
  assert.equal(cronofy.headers.get('retry-after'), '1');
  assert.deepEqual(await cronofy.json(), {
    errors: {
      request: [{ key: 'errors.unavailable', description: 'temporarily unavailable, retry' }],
    },
  });
  const google = await faceFailing(createGoogleErrorHandler(logger), terminated).request('/write', {
    method: 'POST',
  });
  assert.equal(google.status, 503);
  assert.equal(google.headers.get('retry-after'), '1');
  assert.deepEqual(await google.json(), {
    error: {
      code: 503,
      message: 'Backend Error',
      errors: [{ domain: 'global', reason: 'backendError', message: 'Backend Error' }],
    },
  });
});

test('an error that is not the store being away is still a 500', async () => {
  const broken = () => new Error('a bug');
  const cronofy = await faceFailing(createCronofyErrorHandler(logger), broken).request('/write', {
    method: 'POST',
  });
  assert.equal(cronofy.status, 500);
  const google = await faceFailing(createGoogleErrorHandler(logger), broken).request('/write', {
    method: 'POST',
  });
  assert.equal(google.status, 500);
});
