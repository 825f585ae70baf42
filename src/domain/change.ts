/** What changed, as the change log records it: the one fact every dialect plans from. */
export interface ChangeFact {
  readonly resource: 'event' | 'calendar' | 'acl' | 'settings' | 'profile' | 'account';
  readonly calendarId: string | null;
  /** True when the changed event is managed by the application (created through the API). */
  readonly managed: boolean;
  /** True when the resource itself is gone, not just changed: a deleted calendar or event. */
  readonly removed?: boolean;
  /** True when the resource did not exist before this change: a new event, say. */
  readonly created?: boolean;
  /**
   * What changed: an event's id, a calendar's id. A source's batch of event changes is
   * recorded under its calendar's id (one entry for the batch, not one per event).
   */
  readonly resourceId?: string;
  /** For a profile (a source): what happened to it. */
  readonly profileEvent?: ProfileEvent;
  /** For the account itself: what happened to it. */
  readonly accountEvent?: AccountEvent;
}

/** A source's first sync finished; a source's server refused its credentials. */
export type ProfileEvent = 'initial_sync_completed' | 'disconnected';

/** The account is about to be erased (its user asked to be forgotten). */
export type AccountEvent = 'erasure_requested';
