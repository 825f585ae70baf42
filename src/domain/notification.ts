export const dialects = ['cronofy', 'google'] as const;
export type Dialect = (typeof dialects)[number];

export const notificationKinds = [
  'verification',
  'change',
  'profile_disconnected',
  'profile_initial_sync_completed',
  'sync',
  'exists',
  'not_exists',
] as const;
export type NotificationKind = (typeof notificationKinds)[number];

/** A notification as the dispatcher hands it to a dialect's renderer. */
export interface OutgoingNotification {
  readonly id: number;
  readonly kind: NotificationKind;
  readonly changesSince: number | null;
  readonly attempts: number;
}

/** How a delivery attempt ended, before any retry decision. */
export type AttemptOutcome =
  | { readonly kind: 'success'; readonly status: number }
  | {
      readonly kind: 'failure';
      readonly status?: number | undefined;
      readonly error: string;
      readonly retryAfterMs?: number | undefined;
    };

/** Success codes per dialect: Cronofy accepts any 2xx, Google lists its own set. */
export function isSuccessStatus(dialect: Dialect, status: number): boolean {
  if (dialect === 'google') return [200, 201, 202, 204, 102].includes(status);
  return status >= 200 && status < 300;
}
