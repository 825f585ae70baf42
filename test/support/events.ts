import type { Service } from '../../src/service.ts';
import { upsertManagedEvent } from '../../src/core/events.ts';

/** Writes (or rewrites) a one-hour managed event: the simplest change a channel hears. */
export function touchEvent(
  service: Service,
  account: { accountId: string; calendarId: string },
  eventId: string,
) {
  return upsertManagedEvent(
    service.core,
    { accountId: account.accountId, calendarId: account.calendarId },
    eventId,
    {
      summary: eventId,
      description: null,
      location: null,
      start: { dateTime: '2026-12-01T09:00:00Z' },
      end: { dateTime: '2026-12-01T10:00:00Z' },
    },
  );
}
