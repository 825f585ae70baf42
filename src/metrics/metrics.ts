import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from '../domain/clock.ts';
import type { Executor } from '../store/schema.ts';
import type { RequestObserver } from '../http/request-observer.ts';
import type { PollObserver } from '../sources/poll-observer.ts';
import type { DeliveryMetrics } from './delivery-metrics.ts';
import { createDeliveryMetrics } from './delivery-metrics.ts';
import { createHttpMetrics } from './http-metrics.ts';
import { createPollMetrics } from './poll-metrics.ts';
import { createStoreGauges } from './store-gauges.ts';

/** One service's Prometheus metrics: the observers it is wired to, and the text a scrape gets. */
export interface Metrics {
  readonly deliveries: DeliveryMetrics;
  readonly requests: RequestObserver;
  readonly polls: PollObserver;
  readonly contentType: string;
  /** The exposition text, with the store's gauges read now. */
  render(): Promise<string>;
}

export interface MetricsDeps {
  readonly db: Executor;
  readonly clock: Clock;
  /** Node's own figures (CPU, memory, event loop lag): only where someone can scrape them. */
  readonly processMetrics: boolean;
}

export function createMetrics(deps: MetricsDeps): Metrics {
  // A registry per service, not prom-client's global one: tests run several in one process.
  const registry = new Registry();
  if (deps.processMetrics) collectDefaultMetrics({ register: registry });
  const gauges = createStoreGauges(registry, deps.db, deps.clock);
  return {
    deliveries: createDeliveryMetrics(registry),
    requests: createHttpMetrics(registry),
    polls: createPollMetrics(registry),
    contentType: registry.contentType,
    async render() {
      await gauges.refresh();
      return registry.metrics();
    },
  };
}
