import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Delivery } from '../domain/delivery.ts';
import { backoffDelay, defaultRetryPolicy } from '../domain/retry-policy.ts';
import type { OutcomeRules } from './classify-outcome.ts';
import { classifyOutcome } from './classify-outcome.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);

function delivery(dialect: string, attempts = 0, failingSince: number | null = null): Delivery {
  return {
    notificationId: 7,
    kind: 'change',
    changesSince: null,
    attempts,
    channel: {
      id: 'chn_1',
      dialect,
      publicId: 'chn_1',
      clientId: 'cli_1',
      callbackUrl: 'https://example.com/hook',
      origin: 'https://example.com',
      interest: null,
      sealedToken: null,
      expiresAt: null,
      failingSince,
    },
    sealedSecrets: [],
    leaseUntil: 0,
    heldUntil: 0,
  };
}

/** Rules whose clock and random count their reads: a success must read neither. */
function rules(now: number, random = 0.5) {
  const reads = { clock: 0, random: 0 };
  const r: OutcomeRules = {
    dialects: {
      any2xx: { render: () => ({ headers: {}, body: undefined }), isSuccess: (s) => s < 300 },
      listed: {
        render: () => ({ headers: {}, body: undefined }),
        isSuccess: (s) => [200, 102].includes(s),
      },
    },
    policy: defaultRetryPolicy,
    clock: { now: () => (reads.clock++, now) },
    random: () => (reads.random++, random),
  };
  return { rules: r, reads };
}

test('a status the dialect counts as received is delivered, reading neither clock nor random', () => {
  const { rules: r, reads } = rules(T0 + 50);
  const d = delivery('listed');
  assert.deepEqual(classifyOutcome(r, d, { status: 102 }, T0, 12.5), {
    kind: 'delivered',
    delivery: d,
    attempt: { at: T0, status: 102, error: null, latencyMs: 12.5 },
  });
  assert.deepEqual(reads, { clock: 0, random: 0 });
});

test('a status the dialect does not count is a retry with backoff, starting a streak', () => {
  const { rules: r, reads } = rules(T0 + 50, 0.25);
  const d = delivery('listed', 2);
  assert.deepEqual(classifyOutcome(r, d, { status: 201 }, T0, 3), {
    kind: 'retry',
    delivery: d,
    attempt: { at: T0, status: 201, error: null, latencyMs: 3 },
    retryAt: T0 + 50 + backoffDelay(defaultRetryPolicy, 3, 0.25),
    failingSince: T0,
  });
  assert.deepEqual(reads, { clock: 1, random: 1 });
});

test('no response is recorded as such, or with the error the sender gave', () => {
  const { rules: r } = rules(T0);
  const silent = classifyOutcome(r, delivery('any2xx'), {}, T0, 1);
  assert.deepEqual(silent.attempt, { at: T0, status: null, error: 'no response', latencyMs: 1 });
  const refused = classifyOutcome(r, delivery('any2xx'), { error: 'ECONNREFUSED' }, T0, 1);
  assert.equal(refused.attempt.error, 'ECONNREFUSED');
  assert.equal(refused.kind, 'retry');
});

test('a streak carries on from the channel and closes it once the window has passed', () => {
  const { rules: r } = rules(T0 + 24 * HOUR);
  const d = delivery('any2xx', 40, T0);
  const failing = classifyOutcome(r, d, { status: 500 }, T0 + 24 * HOUR - 10, 1);
  assert.deepEqual(failing, {
    kind: 'close',
    delivery: d,
    attempt: { at: T0 + 24 * HOUR - 10, status: 500, error: null, latencyMs: 1 },
    reason: 'delivery failed continuously for 24 hours',
  });
  const { rules: earlier } = rules(T0 + HOUR, 0);
  const retry = classifyOutcome(earlier, delivery('any2xx', 1, T0), { status: 500 }, T0 + HOUR, 1);
  assert.equal(retry.kind === 'retry' && retry.failingSince, T0);
});

test("a receiver's Retry-After lengthens the wait", () => {
  const { rules: r } = rules(T0, 0);
  const c = classifyOutcome(r, delivery('any2xx'), { status: 429, retryAfter: '120' }, T0, 1);
  assert.equal(c.kind === 'retry' && c.retryAt, T0 + 120_000);
});

test('a channel of a dialect none registered is never delivered', () => {
  const { rules: r } = rules(T0);
  assert.equal(classifyOutcome(r, delivery('unknown'), { status: 200 }, T0, 1).kind, 'retry');
});

test('410 Gone closes the channel at once, on the first failure, with the reason', () => {
  const { rules: r } = rules(T0);
  const d = delivery('any2xx');
  assert.deepEqual(classifyOutcome(r, d, { status: 410 }, T0, 4), {
    kind: 'close',
    delivery: d,
    attempt: { at: T0, status: 410, error: null, latencyMs: 4 },
    reason: 'the receiver answered 410 Gone',
  });
});

test('a dialect may retry for less long, then drop the notification and queue a notice', () => {
  const { rules: r } = rules(T0 + 5 * HOUR);
  const giving = {
    ...r,
    dialects: {
      ...r.dialects,
      brief: {
        render: () => ({ headers: {}, body: undefined }),
        isSuccess: (s: number) => s < 300,
        retryWindowMs: 4 * HOUR,
        giveUp: () => ({ notice: 'missed' }),
      },
    },
  };
  const within = classifyOutcome(
    { ...giving, clock: { now: () => T0 + 3 * HOUR } },
    delivery('brief', 3, T0),
    { status: 500 },
    T0 + 3 * HOUR,
    1,
  );
  assert.equal(within.kind, 'retry');
  const past = classifyOutcome(giving, delivery('brief', 9, T0), { status: 500 }, T0 + 5 * HOUR, 1);
  assert.equal(past.kind, 'drop');
  assert.equal(past.kind === 'drop' ? past.notice : undefined, 'missed');
  // A dialect without giveUp closes as before, at its own shorter window.
  const closing = { ...giving.dialects.brief, giveUp: undefined };
  const closed = classifyOutcome(
    { ...giving, dialects: { brief: closing } },
    delivery('brief', 9, T0),
    { status: 500 },
    T0 + 5 * HOUR,
    1,
  );
  assert.equal(closed.kind, 'close');
});

test('a farewell delivered, as the head or batched behind it, closes the channel', () => {
  const { rules: r } = rules(T0);
  const farewell = {
    ...r,
    dialects: {
      bye: {
        render: () => ({ headers: {}, body: undefined }),
        isSuccess: (s: number) => s < 300,
        isFarewell: (kind: string) => kind === 'goodbye',
      },
    },
  };
  const head = { ...delivery('bye'), kind: 'goodbye' };
  const asHead = classifyOutcome(farewell, head, { status: 202 }, T0, 1);
  assert.equal(asHead.kind === 'delivered' ? asHead.thenClose : undefined, 'farewell goodbye sent');
  const behind = {
    ...delivery('bye'),
    batched: [{ notificationId: 8, kind: 'goodbye', changesSince: null }],
  };
  const asBatched = classifyOutcome(farewell, behind, { status: 202 }, T0, 1);
  assert.equal(
    asBatched.kind === 'delivered' ? asBatched.thenClose : undefined,
    'farewell goodbye sent',
  );
  const plain = classifyOutcome(farewell, delivery('bye'), { status: 202 }, T0, 1);
  assert.equal(plain.kind === 'delivered' ? plain.thenClose : 'x', undefined);
});
