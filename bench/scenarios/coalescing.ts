/**
 * Scenario 7. One channel on a slow endpoint (answers after 1 s); 100 event upserts to its
 * calendar through the API within one second. Counts the notifications that arrive and
 * checks coverage: every change must be covered by a notification that arrived after the
 * change was sent and whose changes_since (second precision) is no later than the moment
 * the change was acknowledged (it committed before that).
 */
import type { BenchContext } from '../context.ts';
import { sleep, wallNow } from '../clock.ts';
import { BenchServer } from '../server.ts';
import { openBenchStore } from '../setup.ts';
import { ApiClient } from '../api-client.ts';
import { createAccount } from '../../src/core/accounts.ts';
import { createCronofyChannel } from '../../src/faces/cronofy/channels.ts';

export interface CoalescingResult {
  readonly changes: number;
  readonly received: number;
  readonly covered: boolean;
  readonly lastChangesSince: string;
}

export async function coalescing(ctx: BenchContext): Promise<CoalescingResult> {
  const changes = 100;
  const dir = ctx.scratch('coal');
  const b = await openBenchStore(dir);
  const acc = await createAccount(b.core, { clientId: b.clientId, email: 'c@bench.invalid' });
  await createCronofyChannel(b.core, {
    accountId: acc.accountId,
    clientId: b.clientId,
    callbackUrl: `${ctx.receiver.okUrl}/slow/coal-1`,
    calendarIds: [acc.calendarId],
    onlyManaged: false,
  });
  await b.store.close();

  ctx.receiver.reset();
  const server = await BenchServer.start({ dataDir: dir, env: { CALPUSH_RATE_LIMIT: '0' } });
  await ctx.receiver.expect('coal', 1, 10_000); // verification, answered 1 s later
  await sleep(1300);
  ctx.receiver.reset();

  const api = new ApiClient(server.url, 4);
  const acks: { sent: number; acked: number }[] = [];
  const pending: Promise<void>[] = [];
  const start = wallNow();
  for (let k = 0; k < changes; k++) {
    const wait = start + k * 10 - wallNow();
    if (wait > 1) await sleep(wait);
    const sent = wallNow();
    pending.push(
      api.upsertEvent({ token: acc.accessToken, calendarId: acc.calendarId }).then(() => {
        acks.push({ sent, acked: wallNow() });
      }),
    );
  }
  await Promise.all(pending);
  await api.close();
  let last = -1;
  for (;;) {
    await sleep(2500);
    const { count } = await ctx.receiver.stats('coal');
    if (count === last && count > 0) break;
    last = count;
  }
  const arrivals = await ctx.receiver.arrivals('coal');
  await server.stop();
  const notes = arrivals.map((a) => {
    const body = JSON.parse(a.body ?? '{}') as { notification?: { changes_since?: string } };
    return { at: a.at, since: Date.parse(body.notification?.changes_since ?? '') };
  });
  const covered = acks.every((c) => notes.some((n) => n.at > c.sent && n.since <= c.acked));
  const lastNote = arrivals.at(-1)?.body ?? '{}';
  const since =
    (JSON.parse(lastNote) as { notification?: { changes_since?: string } }).notification
      ?.changes_since ?? '';
  return { changes, received: arrivals.length, covered, lastChangesSince: since };
}
