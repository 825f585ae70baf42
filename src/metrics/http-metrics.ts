import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { quietly } from './quietly.ts';
import type { RequestObserver } from '../http/request-observer.ts';

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createHttpMetrics(registry: Registry): RequestObserver {
  const requests = new Counter({
    name: 'calpush_http_requests_total',
    help: 'API requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'calpush_http_request_duration_seconds',
    help: 'Time to answer an API request, by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  return {
    observe(method, route, status, seconds) {
      quietly(() => {
        requests.inc({ method, route, status: String(status) });
        duration.observe({ method, route }, seconds);
      });
    },
  };
}
