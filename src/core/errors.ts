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

export class CoreError extends Error {
  override name = 'CoreError';
  readonly code: CoreErrorCode;
  /** The request field at fault, when there is one. */
  readonly field: string | undefined;
  /** A machine-readable reason a face may surface (Google's `reason`). */
  readonly reason: string | undefined;

  constructor(
    code: CoreErrorCode,
    message: string,
    details: { field?: string; reason?: string } = {},
  ) {
    super(message);
    this.code = code;
    this.field = details.field;
    this.reason = details.reason;
  }
}
