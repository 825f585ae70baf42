import type { ChangeFact } from '../../domain/change.ts';

/** What a Cronofy channel hears: its `filters`. Stored as JSON with the channel. */
export interface CronofyInterest {
  readonly dialect: 'cronofy';
  /** Only changes to these calendars; null for every calendar of the account. */
  readonly calendarIds: readonly string[] | null;
  readonly onlyManaged: boolean;
}

/** A channel's stored settings, which this face wrote: read back in its own shape. */
export function cronofyInterestOf(stored: unknown): CronofyInterest {
  return stored as CronofyInterest;
}

/** Whether an event change is one a channel with these filters reports. */
export function cronofyHears(interest: CronofyInterest, change: ChangeFact): boolean {
  // Cronofy channels report event changes only; calendar list changes do not notify.
  if (change.resource !== 'event') return false;
  if (interest.onlyManaged && !change.managed) return false;
  if (interest.calendarIds && !interest.calendarIds.includes(change.calendarId ?? '')) {
    return false;
  }
  return true;
}
