import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { quietly } from './quietly.ts';
import type { PollObserver } from '../sources/poll-observer.ts';

const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createPollMetrics(registry: Registry): PollObserver {
  const polls = new Counter({
    name: 'calpush_source_polls_total',
    help: 'Source polls by provider and outcome: changed, unchanged, failed, disconnected.',
    labelNames: ['provider', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'calpush_source_poll_duration_seconds',
    help: 'Time one source poll took, recording included.',
    labelNames: ['provider'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  return {
    polled(provider, outcome, seconds) {
      quietly(() => {
        polls.inc({ provider, outcome });
        duration.observe({ provider }, seconds);
      });
    },
  };
}
