import type { Context } from 'hono';
import type { ZodError } from 'zod';
import { CoreError } from '../../core/errors.ts';
import { isStoreUnavailable } from '../../store/unavailable.ts';
import type { Logger } from '../../log.ts';

export type GoogleStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 429 | 500 | 503;

export interface GoogleErrorItem {
  readonly domain: string;
  readonly reason: string;
  readonly message: string;
  readonly locationType?: 'parameter' | 'header';
  readonly location?: string;
}

/**
 * Google's error envelope: `{"error": {"code", "message", "errors": [{domain, reason, message,
 * locationType?, location?}]}}`. The face's one error class.
 */
export class GoogleError extends Error {
  override name = 'GoogleError';
  readonly status: GoogleStatus;
  readonly item: GoogleErrorItem;

  constructor(
    status: GoogleStatus,
    reason: string,
    message: string,
    at?: Partial<GoogleErrorItem>,
  ) {
    super(message);
    this.status = status;
    this.item = { domain: 'global', reason, message, ...at };
  }

  /** A bad query parameter: 400 with the parameter named, as Google reports it. */
  static parameter(name: string, message: string, reason = 'invalid'): GoogleError {
    return new GoogleError(400, reason, message, { locationType: 'parameter', location: name });
  }

  static notFound(message = 'Not Found'): GoogleError {
    return new GoogleError(404, 'notFound', message);
  }

  static fullSyncRequired(): GoogleError {
    return new GoogleError(
      410,
      'fullSyncRequired',
      'Sync token is no longer valid, a full sync is required.',
    );
  }

  toJson() {
    return { error: { code: this.status, message: this.message, errors: [this.item] } };
  }
}

export function fromZod(error: ZodError): GoogleError {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join('.') ?? '';
  // Zod leaves `input` out of issues; a missing field reads "received undefined".
  const missing = issue?.code === 'invalid_type' && issue.message.endsWith('received undefined');
  if (missing) return new GoogleError(400, 'required', `Required: ${field}`);
  return new GoogleError(
    400,
    'invalid',
    `Invalid value for ${field || 'body'}: ${issue?.message ?? ''}`,
  );
}

function fromCore(error: CoreError): GoogleError {
  switch (error.code) {
    case 'unauthorized':
      return new GoogleError(401, 'authError', 'Invalid Credentials', {
        locationType: 'header',
        location: 'Authorization',
      });
    case 'forbidden':
      return new GoogleError(403, 'forbidden', error.message);
    case 'not_found':
      return GoogleError.notFound();
    case 'limit_reached':
      return new GoogleError(403, 'quotaExceeded', error.message);
    case 'conflict':
      if (error.detail === 'id_not_unique') {
        return new GoogleError(400, 'channelIdNotUnique', error.message);
      }
      return new GoogleError(409, 'duplicate', error.message);
    case 'gone':
      return new GoogleError(410, 'deleted', error.message);
    case 'invalid':
      return new GoogleError(400, invalidReason(error), error.message);
  }
}

/** Google's reason for a refused value: the detail in its words where it has them. */
function invalidReason(error: CoreError): string {
  switch (error.detail) {
    case 'required':
      return 'required';
    case 'primary_calendar':
      return 'cannotDeletePrimaryCalendar';
    case 'callback_refused':
      return 'push.webhookUrlUnauthorized';
    default:
      return 'invalid';
  }
}

/** The face's one error handler: every failure leaves in Google's envelope. */
export function createGoogleErrorHandler(logger: Logger) {
  return function renderGoogleError(err: unknown, c: Context): Response {
    let known: GoogleError;
    if (err instanceof GoogleError) known = err;
    else if (err instanceof CoreError) known = fromCore(err);
    else if (isStoreUnavailable(err)) {
      // Google's own answer to a transient failure: its clients retry it with backoff.
      logger.warn({ err, path: c.req.path }, 'store unavailable on the Google face');
      known = new GoogleError(503, 'backendError', 'Backend Error');
      c.header('retry-after', '1');
    } else {
      logger.error({ err, path: c.req.path }, 'unexpected error on the Google face');
      known = new GoogleError(500, 'backendError', 'Backend Error');
    }
    if (known.status === 401) {
      c.header('www-authenticate', 'Bearer realm="calpush", error="invalid_token"');
    }
    return c.json(known.toJson(), known.status);
  };
}
