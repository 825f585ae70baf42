import type { CoreResources } from '../../core/resources.ts';
import type { Principal } from '../../core/accounts.ts';
import { ownedCalendar } from '../../core/calendars.ts';
import { GraphError } from './errors.ts';
import { primaryCalendarId } from './calendar-ref.ts';
import { decodeSegment, requireSelf } from './own-user.ts';

/** The events a subscription's `resource` names: one calendar's, or all the account's. */
export interface SubscribedEvents {
  readonly calendarId: string | null;
  /** The profile the one calendar belongs to. */
  readonly profileId: string | null;
}

/**
 * Reads `me/events`, `users/{id}/events`, `me/calendar/events`, `me/calendars/{id}/events` and
 * `users/{id}/calendars/{id}/events`, with or without a leading slash; segment names are not
 * case-sensitive, as on Graph. Another user is the caller's own account by id or email.
 */
export async function subscribedEvents(
  res: CoreResources,
  principal: Principal,
  resource: string,
): Promise<SubscribedEvents> {
  const unsupported = () =>
    GraphError.invalid(`Resource '${resource}' is not supported for change notifications.`);
  if (/[?#]/.test(resource)) throw unsupported();
  const parts = resource.replace(/^\//, '').split('/');
  const lower = parts.map((p) => p.toLowerCase());
  let rest: string[];
  if (lower[0] === 'me') rest = lower.slice(1);
  else if (lower[0] === 'users' && parts[1]) {
    await requireSelf(res, principal, decodeSegment(parts[1]));
    rest = lower.slice(2);
  } else throw unsupported();
  const offset = parts.length - rest.length;
  if (rest.length === 1 && rest[0] === 'events') return { calendarId: null, profileId: null };
  const one = async (calendarId: string) => {
    const calendar = await ownedCalendar(res.db, principal.accountId, calendarId);
    return { calendarId, profileId: calendar.profile_id };
  };
  if (rest.length === 2 && rest[0] === 'calendar' && rest[1] === 'events') {
    return one(await primaryCalendarId(res, principal.accountId));
  }
  if (rest.length === 3 && rest[0] === 'calendars' && rest[2] === 'events') {
    return one(decodeSegment(parts[offset + 1] ?? ''));
  }
  throw unsupported();
}
