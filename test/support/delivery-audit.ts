import type pg from 'pg';
import type { ReceivedRequest } from './receiver.ts';
import { notificationType } from './receiver.ts';

/** One notification as a receiver got it, in the order it got them (`seq`). */
export interface Receipt {
  readonly seq: number;
  readonly path: string;
  readonly id: number;
  readonly kind: string;
  readonly at: number;
}

/** A notification row as it was inserted (the test's insert log), and its channel's path. */
export interface Inserted {
  readonly id: number;
  readonly path: string;
  readonly kind: string;
  readonly createdAt: number;
}

export interface Audit {
  /** Notification rows the store made. */
  readonly notifications: number;
  readonly received: number;
  /** Rows neither received by their id nor merged into an older one received after them. */
  readonly lost: readonly string[];
  /**
   * Receipts of an id already received, but for the resends below: what faults sent again.
   */
  readonly duplicates: number;
  /**
   * Resends after an attempt its sender recorded as failed while it held the lease (an
   * answer slower than the send timeout, on a loaded machine): retries by design, not a
   * fault's doing. A failure recorded late, under a lease lost, changes nothing, counts
   * nothing here.
   */
  readonly retried: number;
  /**
   * Duplicates beyond what was in flight at the fault: an id received twice before it, or
   * twice after it (a send under a lease another node had taken over); each with the times
   * it was received, in ms from the fault.
   */
  readonly unexpectedDuplicates: readonly string[];
  /** Receipts of an id lower than one the channel already got. */
  readonly orderViolations: number;
  /** From the fault until every notification made before it was received (or merged). */
  readonly recoveryMs: number;
}

/** The notifications among a receiver's requests (probes and other paths left out). */
export function receiptsOf(requests: readonly ReceivedRequest[], prefix: string): Receipt[] {
  const out: Receipt[] = [];
  requests.forEach((r, seq) => {
    if (!r.path.startsWith(prefix)) return;
    const id = Number(String(r.headers['calpush-notification-id']).replace('ntf_', ''));
    const kind = notificationType(r);
    out.push({ seq, path: r.path, id, kind, at: r.at });
  });
  return out;
}

/** Every notification row inserted, and the state of those still in the table. */
export async function storedNotifications(sql: pg.Client): Promise<{
  inserted: Inserted[];
  states: Map<number, string>;
  retries: Map<number, number>;
}> {
  const log = await sql.query<{ id: string; url: string; kind: string; created_at: string }>(
    `select l.id, c.callback_url as url, l.kind, l.created_at
       from test_notification_log l join channels c on c.id = l.channel_id`,
  );
  const now = await sql.query<{ id: string; state: string; attempts: number }>(
    'select id, state, attempts from notifications',
  );
  return {
    // A row's attempts count only outcomes recorded under the lease; the last, delivered.
    retries: new Map(
      now.rows.map((r) => [Number(r.id), r.state === 'delivered' ? Number(r.attempts) - 1 : 0]),
    ),
    inserted: log.rows.map((r) => ({
      id: Number(r.id),
      path: new URL(r.url).pathname,
      kind: r.kind,
      createdAt: Number(r.created_at),
    })),
    states: new Map(now.rows.map((r) => [Number(r.id), r.state])),
  };
}

/**
 * Counts what a fault cost. A row still in the table must have been received by its own id;
 * a row gone from it was merged into an older one of its channel and kind (a retried or
 * handed-back head), which must then have been received after the row was made. `faultSeq`
 * is the first receipt that may follow the fault, `faultAt` its time.
 */
export function audit(
  receipts: readonly Receipt[],
  stored: {
    inserted: readonly Inserted[];
    states: ReadonlyMap<number, string>;
    retries?: ReadonlyMap<number, number>;
  },
  fault: { seq: number; at: number },
): Audit {
  const byId = new Map<number, Receipt[]>();
  const byPath = new Map<string, Receipt[]>();
  for (const r of receipts) {
    byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
    byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  }
  const coveredAt = (n: Inserted): number | undefined => {
    const state = stored.states.get(n.id);
    if (state !== undefined) return state === 'delivered' ? byId.get(n.id)?.[0]?.at : undefined;
    return (byPath.get(n.path) ?? []).find(
      (r) => r.kind === n.kind && r.id < n.id && r.at >= n.createdAt,
    )?.at;
  };
  const lost: string[] = [];
  let recoveredAt = fault.at;
  for (const n of stored.inserted) {
    const at = coveredAt(n);
    const state = stored.states.get(n.id) ?? 'merged';
    if (at === undefined) lost.push(`ntf_${n.id} ${n.kind} ${n.path} ${state} at ${n.createdAt}`);
    else if (n.createdAt < fault.at) recoveredAt = Math.max(recoveredAt, at);
  }
  let duplicates = 0;
  let retried = 0;
  const unexpectedDuplicates: string[] = [];
  for (const [id, got] of byId) {
    const resent = Math.min(got.length - 1, stored.retries?.get(id) ?? 0);
    retried += resent;
    duplicates += got.length - 1 - resent;
    const before = got.filter((r) => r.seq < fault.seq).length;
    // One more send is what was in flight at the fault: sent before it, and again after.
    const inFlight = before > 0 && got.length - before > 0 ? 1 : 0;
    if (got.length - 1 - resent > inFlight) {
      unexpectedDuplicates.push(`ntf_${id} at ${got.map((r) => r.at - fault.at).join(', ')} ms`);
    }
  }
  let orderViolations = 0;
  for (const got of byPath.values()) {
    let highest = 0;
    for (const r of got) {
      if (r.id < highest) orderViolations++;
      highest = Math.max(highest, r.id);
    }
  }
  return {
    notifications: stored.inserted.length,
    received: receipts.length,
    lost,
    duplicates,
    retried,
    unexpectedDuplicates,
    orderViolations,
    recoveryMs: recoveredAt - fault.at,
  };
}
