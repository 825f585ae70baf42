/** What changed, as the change log records it: the one fact every dialect plans from. */
export interface ChangeFact {
  readonly resource: 'event' | 'calendar' | 'acl' | 'settings';
  readonly calendarId: string | null;
  /** True when the changed event is managed by the application (created through the API). */
  readonly managed: boolean;
  /** True when the resource itself is gone, not just changed: a deleted calendar or event. */
  readonly removed?: boolean;
}
