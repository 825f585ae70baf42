/** Stable codes every face maps to its own error format. */
export const coreErrorCodes = [
  'unauthorized',
  'forbidden',
  'not_found',
  'invalid',
  'conflict',
  'limit_reached',
  'gone',
] as const;
export type CoreErrorCode = (typeof coreErrorCodes)[number];

/**
 * Finer facts under a code, for faces whose format names them (each in its own words): a
 * required value missing, the primary calendar, a callback address refused, a client-chosen
 * id already taken.
 */
export const coreErrorDetails = [
  'required',
  'primary_calendar',
  'callback_refused',
  'id_not_unique',
] as const;
export type CoreErrorDetail = (typeof coreErrorDetails)[number];

export class CoreError extends Error {
  override name = 'CoreError';
  readonly code: CoreErrorCode;
  /** The request field at fault, when there is one. */
  readonly field: string | undefined;
  readonly detail: CoreErrorDetail | undefined;

  constructor(
    code: CoreErrorCode,
    message: string,
    details: { field?: string; detail?: CoreErrorDetail } = {},
  ) {
    super(message);
    this.code = code;
    this.field = details.field;
    this.detail = details.detail;
  }
}
