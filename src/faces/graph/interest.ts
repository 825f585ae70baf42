import type { ChangeFact } from '../../domain/change.ts';

export const graphChangeTypes = ['created', 'updated', 'deleted'] as const;
export type GraphChangeType = (typeof graphChangeTypes)[number];

/** A Graph subscription's stored settings: what it hears, and what its messages carry. */
export interface GraphInterest {
  readonly dialect: 'graph';
  /** The subscribed resource as the client wrote it, echoed back unchanged. */
  readonly resource: string;
  /** Whose events: notifications name them under `Users/{accountId}/…`. */
  readonly accountId: string;
  /** Only this calendar's events; null for every calendar of the account. */
  readonly calendarId: string | null;
  /**
   * The profile (a source, or the account's own) that calendar belongs to: if that source is
   * disconnected, the subscription can hear nothing more. Null for an account-wide one.
   */
  readonly profileId?: string | null;
  readonly changeTypes: readonly GraphChangeType[];
  /** Where lifecycle notifications go (validated like the notification URL); null for none. */
  readonly lifecycleUrl: string | null;
  readonly tlsVersion: string;
}

/** A channel's stored settings, which this face wrote: read back in its own shape. */
export function graphInterestOf(stored: unknown): GraphInterest {
  return stored as GraphInterest;
}

/** Whether an event change is in the subscribed resource (whatever its change type). */
export function graphHearsEvent(interest: GraphInterest, change: ChangeFact): boolean {
  if (change.resource !== 'event') return false;
  return interest.calendarId === null || interest.calendarId === change.calendarId;
}

/** Graph's change type for an event change: a new row is created, a cancelled one deleted. */
export function changeTypeOf(change: ChangeFact): GraphChangeType {
  if (change.removed) return 'deleted';
  return change.created ? 'created' : 'updated';
}
