import type { ChangeFact } from '../../domain/change.ts';

export const watchableResources = ['events', 'calendarList', 'acl', 'settings'] as const;
export type WatchableResource = (typeof watchableResources)[number];

export interface WatchedResource {
  readonly kind: WatchableResource;
  /** Set for events and acl, which are watched per calendar. */
  readonly calendarId: string | null;
}

/** A Google channel's stored settings: what it watches, and the ids its messages carry. */
export interface GoogleInterest {
  readonly dialect: 'google';
  readonly resource: WatchedResource;
  /** Stable opaque id of the watched resource (`X-Goog-Resource-ID`). */
  readonly resourceId: string;
  /** Where the client reads the watched resource (`X-Goog-Resource-URI`). */
  readonly resourceUri: string;
}

/** A channel's stored settings, which this face wrote: read back in its own shape. */
export function googleInterestOf(stored: unknown): GoogleInterest {
  return stored as GoogleInterest;
}

export function googleHears(watched: WatchedResource, change: ChangeFact): boolean {
  switch (watched.kind) {
    case 'events':
      return change.resource === 'event' && change.calendarId === watched.calendarId;
    case 'calendarList':
      return change.resource === 'calendar';
    case 'acl':
      return change.resource === 'acl' && change.calendarId === watched.calendarId;
    case 'settings':
      return change.resource === 'settings';
  }
}

/** The calendar a channel watches the events or rules of is gone: `not_exists`. */
export function watchedCalendarRemoved(watched: WatchedResource, change: ChangeFact): boolean {
  return (
    change.resource === 'calendar' &&
    change.removed === true &&
    watched.kind !== 'calendarList' &&
    watched.calendarId === change.calendarId
  );
}
