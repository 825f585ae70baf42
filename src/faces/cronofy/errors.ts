import type { Context } from 'hono';
import type { ZodError } from 'zod';
import { CoreError } from '../../core/errors.ts';
import { isStoreUnavailable } from '../../store/unavailable.ts';
import type { Logger } from '../../log.ts';

/** Cronofy's error shape: `{"errors": {"field": [{"key", "description"}]}}`. */
export class CronofyError extends Error {
  override name = 'CronofyError';
  readonly status: 400 | 401 | 403 | 404 | 413 | 415 | 422 | 429 | 503;
  readonly errors: Record<string, { key: string; description: string }[]>;
  readonly headers: Record<string, string>;
  constructor(
    status: CronofyError['status'],
    errors: CronofyError['errors'],
    headers: Record<string, string> = {},
  ) {
    super(Object.values(errors)[0]?.[0]?.description ?? 'error');
    this.status = status;
    this.errors = errors;
    this.headers = headers;
  }
  static field(status: CronofyError['status'], field: string, key: string, description: string) {
    return new CronofyError(status, { [field]: [{ key, description }] });
  }
}

export function fromZod(error: ZodError): CronofyError {
  const errors: CronofyError['errors'] = {};
  for (const issue of error.issues) {
    const field = issue.path.map(String).join('.') || 'request';
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    (errors[field] ??= []).push({
      key: missing ? 'errors.required' : 'errors.invalid',
      description: missing ? 'required' : issue.message,
    });
  }
  return new CronofyError(422, errors);
}

function fromCore(error: CoreError): CronofyError {
  const field = error.field ?? 'request';
  switch (error.code) {
    case 'unauthorized':
      return new CronofyError(
        401,
        { authorization: [{ key: 'errors.unauthorized', description: error.message }] },
        { 'www-authenticate': 'Bearer realm="calpush", error="invalid_token"' },
      );
    case 'forbidden':
      return CronofyError.field(403, field, 'errors.forbidden', error.message);
    case 'not_found':
      return CronofyError.field(404, field, 'errors.not_found', error.message);
    case 'limit_reached':
      return CronofyError.field(422, field, 'errors.limit_reached', error.message);
    case 'invalid':
    case 'conflict':
    case 'gone':
      return CronofyError.field(422, field, 'errors.invalid', error.message);
  }
}

/**
 * The store could not answer (its connection lost, a lock held by a stalled node). The same
 * request shortly after should succeed, and may be sent again safely: the face's writes are
 * idempotent (an event by its event_id, a channel by its identical request), so one whose
 * commit made it through after all is not made twice.
 */
function unavailable(): CronofyError {
  return new CronofyError(
    503,
    { request: [{ key: 'errors.unavailable', description: 'temporarily unavailable, retry' }] },
    { 'retry-after': '1' },
  );
}

/** The face's one error handler: every failure leaves in Cronofy's shape, never as a 500 body. */
export function createCronofyErrorHandler(logger: Logger) {
  return function renderCronofyError(err: unknown, c: Context): Response {
    let known =
      err instanceof CronofyError ? err : err instanceof CoreError ? fromCore(err) : undefined;
    if (!known && isStoreUnavailable(err)) {
      logger.warn({ err, path: c.req.path }, 'store unavailable on the Cronofy face');
      known = unavailable();
    }
    if (!known) {
      logger.error({ err, path: c.req.path }, 'unexpected error on the Cronofy face');
      return c.json(
        { errors: { request: [{ key: 'errors.internal', description: 'internal error' }] } },
        500,
      );
    }
    for (const [name, value] of Object.entries(known.headers)) c.header(name, value);
    return c.json({ errors: known.errors }, known.status);
  };
}
