/** The part of a channel that decides which changes it hears about. */
export type ChannelInterest =
  | {
      readonly dialect: 'cronofy';
      readonly calendarIds: readonly string[] | null;
      readonly onlyManaged: boolean;
    }
  | {
      readonly dialect: 'google';
      readonly resource: WatchedResource;
    };

export const watchableResources = ['events', 'calendarList', 'acl', 'settings'] as const;
export type WatchableResource = (typeof watchableResources)[number];

export interface WatchedResource {
  readonly kind: WatchableResource;
  /** Set for events and acl, which are watched per calendar. */
  readonly calendarId: string | null;
}

/** What changed, as the change log records it. */
export interface ChangeFact {
  readonly resource: 'event' | 'calendar' | 'acl' | 'settings';
  readonly calendarId: string | null;
  /** True when the changed event is managed by the application (created through the API). */
  readonly managed: boolean;
}

export function channelHears(interest: ChannelInterest, change: ChangeFact): boolean {
  if (interest.dialect === 'cronofy') {
    // Cronofy channels report event changes only; calendar list changes do not notify.
    if (change.resource !== 'event') return false;
    if (interest.onlyManaged && !change.managed) return false;
    if (interest.calendarIds && !interest.calendarIds.includes(change.calendarId ?? '')) {
      return false;
    }
    return true;
  }
  const watched = interest.resource;
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
