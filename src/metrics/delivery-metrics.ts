import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Completion } from '../domain/delivery.ts';
import { quietly } from './quietly.ts';

/** Seconds, from a few milliseconds up to the day a failing channel is retried for. */
const LATENCY_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21_600, 86_400,
];
/** Seconds a receiver takes to answer; a request gives up at the delivery timeout (5 s). */
const ATTEMPT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What an attempt's completion means to an operator. */
const OUTCOMES: Record<Completion['kind'], string> = {
  delivered: 'delivered',
  retry: 'failed',
  close: 'closed',
  drop: 'dropped',
};

export interface DeliveryMetrics {
  /** A batch of attempt outcomes was committed. */
  recorded(batch: readonly Completion[]): void;
}

export function createDeliveryMetrics(registry: Registry): DeliveryMetrics {
  const attempts = new Counter({
    name: 'calpush_delivery_attempts_total',
    help: 'Delivery attempts by outcome: delivered, failed (retried later), closed (the failure closed the channel), dropped.',
    labelNames: ['dialect', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'calpush_delivery_latency_seconds',
    help: 'From the commit of the change a notification carries to the 2xx of its receiver.',
    labelNames: ['dialect'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'calpush_delivery_attempt_duration_seconds',
    help: 'How long one delivery request took, whatever its outcome.',
    labelNames: ['dialect'] as const,
    buckets: ATTEMPT_BUCKETS,
    registers: [registry],
  });
  const recordAll = (batch: readonly Completion[]): void => {
    for (const c of batch) {
      const dialect = c.delivery.channel.dialect;
      attempts.inc({ dialect, outcome: OUTCOMES[c.kind] });
      duration.observe({ dialect }, c.attempt.latencyMs / 1000);
      const committed = c.delivery.createdAt;
      if (c.kind === 'delivered' && committed !== undefined) {
        const received = c.attempt.at + c.attempt.latencyMs;
        latency.observe({ dialect }, Math.max(0, received - committed) / 1000);
      }
    }
  };
  return { recorded: (batch) => quietly(() => recordAll(batch)) };
}
