import type { Context } from 'hono';
import { CoreError } from '../../core/errors.ts';
import type { CoreErrorCode } from '../../core/errors.ts';
import { isStoreUnavailable } from '../../store/unavailable.ts';
import type { Logger } from '../../log.ts';

export type AdminStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 500 | 503;

/**
 * The admin API's one error shape, the root's own with a reason: `{"error": {"code"
 * (the HTTP status), "message", "reason", "field"?}}`.
 */
export class AdminError extends Error {
  override name = 'AdminError';
  readonly status: AdminStatus;
  readonly code: string;
  readonly field: string | undefined;
  constructor(status: AdminStatus, code: string, message: string, field?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export function adminErrorBody(status: number, message: string, reason = 'error', field?: string) {
  return { error: { code: status, message, reason, ...(field === undefined ? {} : { field }) } };
}

const statusOf: Record<CoreErrorCode, AdminStatus> = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  invalid: 400,
  conflict: 409,
  limit_reached: 409,
  gone: 410,
};

export function createAdminErrorHandler(logger: Logger) {
  return function renderAdminError(err: unknown, c: Context): Response {
    let known: AdminError;
    if (err instanceof AdminError) known = err;
    else if (err instanceof CoreError) {
      known = new AdminError(statusOf[err.code], err.code, err.message, err.field);
    } else if (isStoreUnavailable(err)) {
      logger.warn({ err, path: c.req.path }, 'store unavailable on the admin API');
      c.header('retry-after', '1');
      known = new AdminError(503, 'unavailable', 'temporarily unavailable, retry');
    } else {
      logger.error({ err, path: c.req.path }, 'unexpected error on the admin API');
      known = new AdminError(500, 'internal', 'internal error');
    }
    if (known.status === 401) c.header('www-authenticate', 'Bearer realm="calpush admin"');
    return c.json(
      adminErrorBody(known.status, known.message, known.code, known.field),
      known.status,
    );
  };
}
