import type { Service } from '../../src/service.ts';
import type { ManualClock } from '../../src/domain/clock.ts';
import type { Watch } from '../../src/sources/google/watches.ts';
import { readWatchCursor } from '../../src/sources/google/watches.ts';
import type { TestAccount } from './harness.ts';
import { callApi } from './api.ts';

/**
 * Two calpush servers on one clock: `upstream` plays Google Calendar (its Google face), and
 * `downstream` has a Google source over the upstream account. Read as the tests run: the
 * servers may be restarted, and the source is made by a test.
 */
export interface GoogleSourcePair {
  readonly clock: ManualClock;
  readonly upstream: Service;
  readonly downstream: Service;
  readonly upstreamAccount: TestAccount;
  readonly account: TestAccount;
  readonly sourceId: string;
}

/** What the Google source tests ask of such a pair. */
export function googleSourceProbes<J>(pair: () => GoogleSourcePair) {
  const sourceRow = () => {
    const { downstream, sourceId } = pair();
    return downstream.core.db
      .selectFrom('sources')
      .selectAll()
      .where('id', '=', sourceId)
      .executeTakeFirstOrThrow();
  };
  return {
    /** The downstream's API, as its account. */
    call: (method: string, path: string, body?: unknown) =>
      callApi<J>(pair().downstream, pair().account.accessToken, method, path, body),
    /** The upstream's Google face, as the account the source mirrors. */
    upstreamCall: (method: string, path: string, body?: unknown) =>
      callApi<J>(
        pair().upstream,
        pair().upstreamAccount.accessToken,
        method,
        `/calendar/v3${path}`,
        body,
      ),
    eventsPath: () => `/calendars/${encodeURIComponent(pair().upstreamAccount.calendarId)}/events`,
    sourceRow,
    /** The source's watch channels on the upstream, as its cursor holds them. */
    watches: async (): Promise<readonly Watch[]> =>
      readWatchCursor(JSON.parse((await sourceRow()).cursor_json ?? 'null')).watches,
    /** The upstream delivers what it queued (its pushes to the downstream, over HTTP). */
    upstreamDelivers: async () => {
      for (let round = 0; round < 3; round++) {
        pair().clock.advance(1000);
        await pair().upstream.dispatcher.runUntilIdle();
      }
    },
  };
}
