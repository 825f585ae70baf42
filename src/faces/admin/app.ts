import { Hono } from 'hono';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { CoreResources } from '../../core/resources.ts';
import type { Completion } from '../../domain/delivery.ts';
import type { Logger } from '../../log.ts';
import { isOperatorToken } from '../../core/admin-tokens.ts';
import {
  OPERATOR,
  channelAttempts,
  channelHealth,
  channelInScope,
  notificationAttempts,
  parseNotificationId,
  searchAttempts,
} from '../../core/delivery-log.ts';
import {
  reactivateChannel,
  replayFailedSince,
  replayNotification,
  sendTestNotification,
} from '../../core/replays.ts';
import {
  listAccounts,
  listChannelSummaries,
  listClients,
  listSourceSummaries,
} from '../../core/operator-views.ts';
import { parseAttemptQuery, parseInstant } from '../../http/log-query.ts';
import { bearerToken, readJson } from '../../http/read-json.ts';
import { AdminError, adminErrorBody, createAdminErrorHandler } from './errors.ts';
import {
  accountJson,
  channelSummaryJson,
  clientJson,
  completionEventData,
  healthJson,
  pageJson,
  sourceJson,
} from './serialize.ts';
import { replayedJson } from '../../http/delivery-log-json.ts';

/** Subscribes to attempts as their outcomes are recorded; returns the unsubscribe. */
export type AttemptFeed = (listener: (batch: readonly Completion[]) => void) => () => void;

/** What a session check reads of a request. */
export interface SessionRequest {
  readonly method: string;
  readonly cookie: string | undefined;
  readonly csrf: string | undefined;
}

/** An open operator's session; long requests (the event stream) ask again whether it still is. */
export interface OpenSession {
  stillOpen(): Promise<boolean>;
}

/**
 * Another way in besides the bearer token (the dashboard's session cookie), checked first:
 * an operator's session, one whose write lacks its CSRF token, or none.
 */
export type OperatorSession = (req: SessionRequest) => Promise<OpenSession | 'csrf' | null>;

export interface AdminApiOptions {
  readonly logger: Logger;
  /** `CALPUSH_ADMIN_TOKEN`, if configured. */
  readonly adminToken: string | undefined;
  readonly attempts: AttemptFeed;
  readonly session?: OperatorSession;
  /** Comment lines on the event stream this often, so proxies keep it open. */
  readonly keepAliveMs?: number;
}

const replaySinceSchema = z.object({ since: z.string().min(1) });
/** Attempts held for one event stream's reader at most. */
const MAX_QUEUED_EVENTS = 1000;
const channelStates = ['active', 'failing', 'closed'] as const;

function bodyOf<T>(schema: z.ZodType<T>, body: Awaited<ReturnType<typeof readJson>>): T {
  if (!body.ok) throw new AdminError(400, 'invalid', body.problem);
  const parsed = schema.safeParse(body.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') || undefined;
    throw new AdminError(400, 'invalid', issue?.message ?? 'invalid body', field);
  }
  return parsed.data;
}

/**
 * The operator's API, under `/admin/v1`: the delivery log, replay, reactivation and tests
 * across every client and account, search by notification id and by callback host, and a
 * live stream of attempts (server-sent events). Opened by the operator's token.
 */
export function createAdminApi(res: CoreResources, options: AdminApiOptions) {
  const app = new Hono<{ Variables: { session: OpenSession | undefined } }>();

  app.use('*', async function authenticateOperator(c, next) {
    const session =
      (await options.session?.({
        method: c.req.method,
        cookie: c.req.header('cookie'),
        csrf: c.req.header('x-csrf-token'),
      })) ?? null;
    if (session !== null && session !== 'csrf') {
      c.set('session', session);
      return next();
    }
    if (session === 'csrf') throw new AdminError(403, 'csrf', 'missing or wrong CSRF token');
    const token = bearerToken(c.req.header('authorization'));
    if (!(await isOperatorToken(res, token, options.adminToken))) {
      throw new AdminError(401, 'unauthorized', 'an operator token is required');
    }
    await next();
  });

  app.get('/clients', async (c) => c.json({ clients: (await listClients(res)).map(clientJson) }));

  app.get('/accounts', async (c) => {
    const accounts = await listAccounts(res, { clientId: c.req.query('client_id') });
    return c.json({ accounts: accounts.map(accountJson) });
  });

  app.get('/sources', async (c) =>
    c.json({ sources: (await listSourceSummaries(res)).map(sourceJson) }),
  );

  app.get('/channels', async (c) => {
    const state = c.req.query('state');
    if (state !== undefined && !channelStates.some((s) => s === state)) {
      throw new AdminError(400, 'invalid', 'state must be active, failing or closed', 'state');
    }
    const limit = Number(c.req.query('limit') ?? '100');
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new AdminError(400, 'invalid', 'limit must be a whole number from 1 to 1000', 'limit');
    }
    const channels = await listChannelSummaries(res, {
      clientId: c.req.query('client_id'),
      accountId: c.req.query('account_id'),
      state: channelStates.find((s) => s === state),
      limit,
    });
    return c.json({ channels: channels.map(channelSummaryJson) });
  });

  const channelOf = (c: Context) =>
    channelInScope(res, { id: c.req.param('channelId') ?? '' }, OPERATOR);

  app.get('/channels/:channelId/health', async (c) =>
    c.json({ health: healthJson(await channelHealth(res, await channelOf(c)), res.clock.now()) }),
  );

  app.get('/channels/:channelId/attempts', async (c) => {
    const query = parseAttemptQuery((name) => c.req.query(name));
    return c.json(pageJson(await channelAttempts(res, await channelOf(c), query)));
  });

  app.post('/channels/:channelId/replay', async (c) => {
    const body = bodyOf(replaySinceSchema, await readJson(c));
    const since = parseInstant(body.since, 'since');
    const replayed = await replayFailedSince(res, await channelOf(c), since);
    return c.json({ replayed: replayed.map(replayedJson) }, 202);
  });

  app.post('/channels/:channelId/reactivate', async (c) => {
    await reactivateChannel(res, await channelOf(c));
    return c.json(
      { health: healthJson(await channelHealth(res, await channelOf(c)), res.clock.now()) },
      202,
    );
  });

  app.post('/channels/:channelId/test', async (c) =>
    c.json({ test: replayedJson(await sendTestNotification(res, await channelOf(c))) }, 202),
  );

  app.get('/notifications/:notificationId/attempts', async (c) => {
    const query = parseAttemptQuery((name) => c.req.query(name));
    const id = parseNotificationId(c.req.param('notificationId'));
    return c.json(pageJson(await notificationAttempts(res, id, OPERATOR, query)));
  });

  app.post('/notifications/:notificationId/replay', async (c) => {
    const id = parseNotificationId(c.req.param('notificationId'));
    return c.json({ replay: replayedJson(await replayNotification(res, id, OPERATOR)) }, 202);
  });

  app.get('/attempts', async (c) => {
    const query = parseAttemptQuery((name) => c.req.query(name));
    const notification = c.req.query('notification_id');
    const host = c.req.query('host');
    const page = await searchAttempts(res, {
      ...query,
      ...(notification ? { notificationId: parseNotificationId(notification) } : {}),
      ...(host ? { host } : {}),
    });
    return c.json(pageJson(page));
  });

  app.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      const queue: Completion[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = options.attempts((batch) => {
        // A reader slower than delivery sees the newest attempts, not an ever longer queue.
        for (const completion of batch.slice(-MAX_QUEUED_EVENTS)) queue.push(completion);
        if (queue.length > MAX_QUEUED_EVENTS) queue.splice(0, queue.length - MAX_QUEUED_EVENTS);
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      const keepAlive = setInterval(() => wake?.(), options.keepAliveMs ?? 15_000);
      // A dashboard session can end while its stream is open (the token revoked): ask again
      // at each keep-alive, and close the stream when it has.
      const session = c.get('session');
      try {
        await stream.writeSSE({ event: 'ready', data: '{}' });
        while (!stream.aborted) {
          if (queue.length === 0) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            if (session && !(await session.stillOpen())) break;
            if (queue.length === 0 && !stream.aborted) await stream.write(': keep-alive\n\n');
            continue;
          }
          const next = queue.shift();
          if (next) await stream.writeSSE({ event: 'attempt', data: completionEventData(next) });
        }
      } finally {
        clearInterval(keepAlive);
        unsubscribe();
      }
    }),
  );

  app.all('*', (c) => c.json(adminErrorBody(404, 'no such endpoint', 'not_found'), 404));
  app.onError(createAdminErrorHandler(options.logger));
  return app;
}
