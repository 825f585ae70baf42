import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { Completion } from '../domain/delivery.ts';
import { createDeliveryMetrics } from './delivery-metrics.ts';

const completion = (kind: 'delivered' | 'retry', latencyMs: number) =>
  ({
    kind,
    delivery: { channel: { dialect: 'google' }, createdAt: 1_000 },
    attempt: { at: 3_000, status: kind === 'delivered' ? 200 : 500, error: null, latencyMs },
    ...(kind === 'retry' ? { retryAt: 9_000, failingSince: 3_000 } : {}),
  }) as unknown as Completion;

test('outcomes count by dialect; latency runs from the commit to the answer', async () => {
  const registry = new Registry();
  const metrics = createDeliveryMetrics(registry);
  metrics.recorded([completion('delivered', 500), completion('retry', 20)]);
  const text = await registry.metrics();
  assert.match(
    text,
    /^calpush_delivery_attempts_total\{dialect="google",outcome="delivered"\} 1$/m,
  );
  assert.match(text, /^calpush_delivery_attempts_total\{dialect="google",outcome="failed"\} 1$/m);
  assert.match(text, /^calpush_delivery_latency_seconds_sum\{dialect="google"\} 2\.5$/m);
  assert.match(text, /^calpush_delivery_latency_seconds_count\{dialect="google"\} 1$/m);
});

test('a figure that cannot be kept never throws into the delivery engine', () => {
  const metrics = createDeliveryMetrics(new Registry());
  assert.doesNotThrow(() => metrics.recorded([completion('delivered', Number.NaN)]));
});
