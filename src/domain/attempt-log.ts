/**
 * What the delivery log records of an attempt beyond its status: a coarse class of what went
 * wrong, so an operator can filter and alert on it without reading error strings.
 */
export const errorClasses = [
  'http_status',
  'timeout',
  'refused',
  'reset',
  'dns',
  'tls',
  'unsafe_address',
  'other',
] as const;
export type ErrorClass = (typeof errorClasses)[number];

/** Why a notification is on the wire besides the change that queued it. */
export const notificationPurposes = ['replay', 'test'] as const;
export type NotificationPurpose = (typeof notificationPurposes)[number];

/** The most of a receiver's answer kept with a failed attempt, in bytes. */
export const RESPONSE_EXCERPT_BYTES = 512;

/**
 * The class of a failed attempt: a status the dialect did not count as received, or the
 * transport error that left no status. Null for a delivered attempt.
 */
export function errorClassOf(
  delivered: boolean,
  status: number | null,
  error: string | null,
): ErrorClass | null {
  if (delivered) return null;
  if (status !== null) return 'http_status';
  const text = (error ?? '').toLowerCase();
  if (/timeout|timed out|aborted|und_err_headers_timeout|und_err_body_timeout/.test(text)) {
    return 'timeout';
  }
  if (text.includes('econnrefused')) return 'refused';
  if (/econnreset|socket|other side closed|epipe/.test(text)) return 'reset';
  if (/enotfound|eai_again|getaddrinfo/.test(text)) return 'dns';
  if (/certificate|tls|ssl|self.signed/.test(text)) return 'tls';
  if (/non-public|refusing|not allowed|blocked/.test(text)) return 'unsafe_address';
  return 'other';
}

/**
 * Closes a reactivation may undo: the receiver failed for the whole retry window, or
 * answered 410 Gone. A channel closed by its client, by expiry or by erasure stays closed.
 */
export function closedForFailures(reason: string | null): boolean {
  return reason !== null && (reason.startsWith('delivery failed') || reason.includes('410 Gone'));
}
