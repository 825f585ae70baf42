import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Clock } from '../domain/clock.ts';
import type { Executor } from '../store/schema.ts';
import { STATS_ROW_CAP, channelsByState, queueStats } from '../store/queue-stats.ts';

/** States always reported, 0 when no channel is in them, so a panel never goes blank. */
const CHANNEL_STATES = ['active', 'failing', 'closed'] as const;

/**
 * Gauges read from the store at scrape time. They describe the whole store: on several
 * nodes sharing PostgreSQL every node reports the same figures (aggregate with max, not sum).
 */
export function createStoreGauges(registry: Registry, db: Executor, clock: Clock) {
  const depth = new Gauge({
    name: 'calpush_queue_depth',
    help: `Notifications queued or on the wire (counted up to ${STATS_ROW_CAP}).`,
    registers: [registry],
  });
  const oldest = new Gauge({
    name: 'calpush_queue_oldest_due_age_seconds',
    help: 'How long the channel waiting longest past its due time has waited (0: none is late).',
    registers: [registry],
  });
  const channels = new Gauge({
    name: 'calpush_channels',
    help: 'Channels by state; failing: active in a streak of failed deliveries.',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'calpush_metrics_store_errors_total',
    help: 'Scrapes whose store gauges could not be read (the store was unavailable).',
    registers: [registry],
  });
  return {
    /** Reads the store once for every gauge; a failure leaves the last figures and is counted. */
    async refresh(): Promise<void> {
      try {
        const [queue, states] = await Promise.all([
          queueStats(db, clock.now()),
          channelsByState(db),
        ]);
        depth.set(queue.depth);
        oldest.set(queue.oldestDueAgeMs / 1000);
        channels.reset();
        for (const state of CHANNEL_STATES) channels.set({ state }, 0);
        for (const [state, n] of states) channels.set({ state }, n);
      } catch {
        failures.inc();
      }
    },
  };
}
