import type { GraphChangeType } from './interest.ts';

/**
 * A Graph notification names the event it is about, so its kind carries it: `created
 * Events/{id}`. Kinds are what the outbox coalesces on, so a second change to an event whose
 * notification still waits merges into it, while changes to other events each keep their own.
 * A source writes a batch of events as one change under its calendar's id: that is notified
 * as `updated Calendars/{id}/Events`, the collection, with no event id.
 */
export type GraphLifecycleEvent = 'missed' | 'subscriptionRemoved' | 'reauthorizationRequired';

const LIFECYCLE = 'lifecycle';

export type ParsedKind =
  | { readonly type: 'change'; readonly changeType: GraphChangeType; readonly path: string }
  | { readonly type: 'lifecycle'; readonly event: GraphLifecycleEvent };

export function changeKind(changeType: GraphChangeType, path: string): string {
  return `${changeType} ${path}`;
}

export function lifecycleKind(event: GraphLifecycleEvent): string {
  return `${LIFECYCLE} ${event}`;
}

export function eventPath(eventId: string): string {
  return `Events/${eventId}`;
}

export function calendarEventsPath(calendarId: string): string {
  return `Calendars/${calendarId}/Events`;
}

export function parseKind(kind: string): ParsedKind {
  const space = kind.indexOf(' ');
  const head = kind.slice(0, space);
  const rest = kind.slice(space + 1);
  if (head === LIFECYCLE) return { type: 'lifecycle', event: rest as GraphLifecycleEvent };
  return { type: 'change', changeType: head as GraphChangeType, path: rest };
}

/** The event a change path names; undefined for a collection. */
export function eventIdOf(path: string): string | undefined {
  return path.startsWith('Events/') ? path.slice('Events/'.length) : undefined;
}
