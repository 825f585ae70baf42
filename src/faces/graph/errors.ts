import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import type { ZodError } from 'zod';
import { CoreError } from '../../core/errors.ts';
import type { Logger } from '../../log.ts';

export type GraphStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 429 | 500;

/**
 * Graph's error envelope: `{"error": {"code", "message", "innerError": {"request-id", "date",
 * "client-request-id"}}}`. The face's one error class; the SDKs read `code` and `message`.
 */
export class GraphError extends Error {
  override name = 'GraphError';
  readonly status: GraphStatus;
  readonly code: string;
  /** Extra response headers (a 410's Location). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: GraphStatus,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }

  static invalid(message: string): GraphError {
    return new GraphError(400, 'InvalidRequest', message);
  }

  static notFound(message = 'The specified object was not found in the store.'): GraphError {
    return new GraphError(404, 'ResourceNotFound', message);
  }

  static syncStateNotFound(location: string | undefined): GraphError {
    return new GraphError(
      410,
      'SyncStateNotFound',
      'The sync state generation is not found. Please restart the sync.',
      location ? { location } : {},
    );
  }
}

/** The envelope itself, for errors answered outside the face's own handler. */
export function graphErrorBody(code: string, message: string, clientRequestId?: string) {
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().slice(0, 19),
        'request-id': randomUUID(),
        'client-request-id': clientRequestId ?? randomUUID(),
      },
    },
  };
}

export function fromZod(error: ZodError): GraphError {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join('.') ?? '';
  const missing = issue?.code === 'invalid_type' && issue.message.endsWith('received undefined');
  if (missing) return GraphError.invalid(`Missing required property '${field}'.`);
  return GraphError.invalid(`Invalid value for '${field || 'body'}': ${issue?.message ?? ''}`);
}

function fromCore(error: CoreError): GraphError {
  switch (error.code) {
    case 'unauthorized':
      return new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    case 'forbidden':
      return new GraphError(403, 'ErrorAccessDenied', error.message);
    case 'not_found':
      return GraphError.notFound();
    case 'limit_reached':
      return new GraphError(403, 'ExtensionError', error.message);
    case 'conflict':
      return new GraphError(409, 'ErrorItemAlreadyExists', error.message);
    case 'gone':
      return GraphError.notFound();
    case 'invalid':
      if (error.detail === 'callback_refused') {
        return GraphError.invalid(`${error.field ?? 'notificationUrl'} ${error.message}.`);
      }
      return GraphError.invalid(error.message);
  }
}

/** The face's one error handler: every failure leaves in Graph's envelope. */
export function createGraphErrorHandler(logger: Logger) {
  return function renderGraphError(err: unknown, c: Context): Response {
    let known: GraphError;
    if (err instanceof GraphError) known = err;
    else if (err instanceof CoreError) known = fromCore(err);
    else {
      logger.error({ err, path: c.req.path }, 'unexpected error on the Graph face');
      known = new GraphError(500, 'generalException', 'An unexpected error occurred.');
    }
    for (const [name, value] of Object.entries(known.headers)) c.header(name, value);
    if (known.status === 401) c.header('www-authenticate', 'Bearer realm="calpush"');
    const body = graphErrorBody(known.code, known.message, c.req.header('client-request-id'));
    c.header('request-id', body.error.innerError['request-id']);
    return c.json(body, known.status);
  };
}
