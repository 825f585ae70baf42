import { setTimeout as delay } from 'node:timers/promises';
import type { Cluster } from './cluster.ts';

export interface WriteRecord {
  readonly node: number;
  readonly startedAt: number;
  readonly ms: number;
  /** The HTTP status; 0 when no answer came (refused, reset, timed out). */
  readonly status: number;
  readonly body: string;
}

/**
 * API writes through every node's Cronofy face, one writer per node so a node that stalls
 * holds up only its own: each writes an event of the accounts in turn, then waits `everyMs`.
 * A node can be left out (it is paused or dead: a load balancer would route around it).
 */
export class WriteLoad {
  readonly records: WriteRecord[] = [];
  readonly #cluster: Cluster;
  readonly #everyMs: number;
  readonly #skipped = new Set<number>();
  readonly #loops: Promise<void>[] = [];
  #running = true;
  #n = 0;

  constructor(cluster: Cluster, everyMs: number) {
    this.#cluster = cluster;
    this.#everyMs = everyMs;
    for (let i = 0; i < cluster.nodes.length; i++) this.#loops.push(this.#loop(i));
  }

  skip(node: number): void {
    this.#skipped.add(node);
  }

  include(node: number): void {
    this.#skipped.delete(node);
  }

  /** Writes made from `since` on (ms), to any node not skipped then. */
  since(at: number): WriteRecord[] {
    return this.records.filter((r) => r.startedAt >= at);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  async #loop(node: number): Promise<void> {
    while (this.#running) {
      if (!this.#skipped.has(node)) await this.write(node);
      await delay(this.#everyMs);
    }
  }

  /** One write through `node`, recorded with the others. */
  async write(node: number): Promise<WriteRecord> {
    const n = this.#n++;
    const accounts = this.#cluster.accounts;
    const account = accounts[n % accounts.length]!;
    const startedAt = Date.now();
    let status = 0;
    let body = '';
    try {
      const res = await this.#cluster.api(
        this.#cluster.nodes[node]!,
        account,
        'POST',
        `/v1/calendars/${account.calendarId}/events`,
        {
          event_id: `e${n % 7}`,
          summary: `write ${n}`,
          start: '2026-12-01T09:00:00Z',
          end: '2026-12-01T10:00:00Z',
        },
        AbortSignal.timeout(30_000),
      );
      status = res.status;
      body = await res.text();
    } catch (err) {
      body = err instanceof Error ? err.message : String(err);
    }
    const record = { node, startedAt, ms: Date.now() - startedAt, status, body };
    this.records.push(record);
    return record;
  }
}
