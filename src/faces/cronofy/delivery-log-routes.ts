import { Hono } from 'hono';
import { z } from 'zod';
import type { CoreResources } from '../../core/resources.ts';
import type { CronofyEnv } from './context.ts';
import type { AttemptPage, LogScope } from '../../core/delivery-log.ts';
import {
  channelAttempts,
  channelHealth,
  channelInScope,
  notificationAttempts,
  parseNotificationId,
} from '../../core/delivery-log.ts';
import {
  reactivateChannel,
  replayFailedSince,
  replayNotification,
  sendTestNotification,
} from '../../core/replays.ts';
import { parseAttemptQuery, parseInstant } from '../../http/log-query.ts';
import { readJson } from '../../http/read-json.ts';
import { attemptJson, healthJson, replayedJson } from '../../http/delivery-log-json.ts';
import { parseBody } from './schemas.ts';

function pageJson(page: AttemptPage) {
  return {
    attempts: page.attempts.map(attemptJson),
    pages: { next_cursor: page.nextCursor },
  };
}

const replaySinceSchema = z.object({ since: z.string().min(1) });

/**
 * calpush extensions to the Cronofy face: the delivery log of the caller's channels, and
 * replay, reactivation and test notifications (see docs/operations.md).
 */
export function deliveryLogRoutes(res: CoreResources) {
  const app = new Hono<CronofyEnv>();
  const scopeOf = (c: { get(key: 'principal'): { accountId: string; clientId: string } }) => {
    const p = c.get('principal');
    return { kind: 'account', accountId: p.accountId, clientId: p.clientId } satisfies LogScope;
  };

  app.get('/channels/:channelId/health', async (c) => {
    const channel = await channelInScope(res, { id: c.req.param('channelId') }, scopeOf(c));
    return c.json({ health: healthJson(await channelHealth(res, channel), res.clock.now()) });
  });

  app.get('/channels/:channelId/attempts', async (c) => {
    const query = parseAttemptQuery((name) => c.req.query(name));
    const channel = await channelInScope(res, { id: c.req.param('channelId') }, scopeOf(c));
    return c.json(pageJson(await channelAttempts(res, channel, query)));
  });

  app.post('/channels/:channelId/replay', async (c) => {
    const body = parseBody(replaySinceSchema, await readJson(c));
    const since = parseInstant(body.since, 'since');
    const channel = await channelInScope(res, { id: c.req.param('channelId') }, scopeOf(c));
    const replayed = await replayFailedSince(res, channel, since);
    return c.json({ replayed: replayed.map(replayedJson) }, 202);
  });

  app.post('/channels/:channelId/reactivate', async (c) => {
    const channel = await channelInScope(res, { id: c.req.param('channelId') }, scopeOf(c));
    await reactivateChannel(res, channel);
    return c.json(
      {
        health: healthJson(
          await channelHealth(res, await channelInScope(res, { id: channel.id }, scopeOf(c))),
          res.clock.now(),
        ),
      },
      202,
    );
  });

  app.post('/channels/:channelId/test', async (c) => {
    const channel = await channelInScope(res, { id: c.req.param('channelId') }, scopeOf(c));
    return c.json({ test: replayedJson(await sendTestNotification(res, channel)) }, 202);
  });

  app.get('/notifications/:notificationId/attempts', async (c) => {
    const query = parseAttemptQuery((name) => c.req.query(name));
    const id = parseNotificationId(c.req.param('notificationId'));
    return c.json(pageJson(await notificationAttempts(res, id, scopeOf(c), query)));
  });

  app.post('/notifications/:notificationId/replay', async (c) => {
    const id = parseNotificationId(c.req.param('notificationId'));
    return c.json({ replay: replayedJson(await replayNotification(res, id, scopeOf(c))) }, 202);
  });

  return app;
}
