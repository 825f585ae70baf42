import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import type { CoreResources } from '../../core/resources.ts';
import type { GoogleEnv } from './context.ts';
import type { AttemptPage, AttemptView, ChannelHealth, LogScope } from '../../core/delivery-log.ts';
import type { Replayed } from '../../core/replays.ts';
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
import { parseBody } from './schemas.ts';

const rfc3339 = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());

function attemptJson(a: AttemptView) {
  return {
    kind: 'calpush#attempt',
    notificationId: a.notificationId,
    channelId: a.channelId,
    time: rfc3339(a.at),
    resourceState: a.kind ?? undefined,
    outcome: a.outcome,
    status: a.status ?? undefined,
    error: a.error ?? undefined,
    errorClass: a.errorClass ?? undefined,
    latencyMs: a.latencyMs,
    responseExcerpt: a.responseExcerpt ?? undefined,
    nextRetryTime: rfc3339(a.nextRetryAt),
    replay: a.replay,
    test: a.test,
  };
}

function pageJson(page: AttemptPage) {
  return {
    kind: 'calpush#attempts',
    items: page.attempts.map(attemptJson),
    ...(page.nextCursor === null ? {} : { nextPageToken: page.nextCursor }),
  };
}

function healthJson(h: ChannelHealth, now: number) {
  return {
    kind: 'calpush#channelHealth',
    id: h.channel.publicId,
    address: h.channel.callbackUrl,
    state: h.state,
    closedReason: h.channel.closedReason ?? undefined,
    closedTime: rfc3339(h.closedAt),
    lastSuccessTime: rfc3339(h.lastSuccessAt),
    lastAttemptTime: rfc3339(h.lastAttemptAt),
    failingSince: rfc3339(h.failingSince),
    failureStreak: h.failureStreak,
    closesTime: rfc3339(h.closesAt),
    closesInSeconds:
      h.closesAt === null ? undefined : Math.max(0, Math.round((h.closesAt - now) / 1000)),
    queued: h.queued,
  };
}

function replayedJson(r: Replayed) {
  return {
    kind: 'calpush#replay',
    notificationId: r.notificationId,
    queuedAs: r.queuedAs,
    merged: r.merged,
  };
}

const replaySinceSchema = z.object({ since: z.string().min(1) });

/**
 * calpush extensions on the Google face, under `/calendar/v3/calpush/`: the delivery log of
 * the caller's channels (by the id the client chose), replay, reactivation and test
 * notifications. Google's own paging words: `pageToken` in, `nextPageToken` out.
 */
export function deliveryLogRoutes(res: CoreResources) {
  const app = new Hono<GoogleEnv>();
  const scopeOf = (c: Context<GoogleEnv>): LogScope => {
    const p = c.get('principal');
    return { kind: 'account', accountId: p.accountId, clientId: p.clientId };
  };
  const channelOf = (c: Context<GoogleEnv>) =>
    channelInScope(
      res,
      { publicId: c.req.param('channelId') ?? '', clientId: c.get('principal').clientId },
      scopeOf(c),
    );
  const query = (c: Context<GoogleEnv>) =>
    parseAttemptQuery((name) =>
      c.req.query(name === 'cursor' ? 'pageToken' : name === 'limit' ? 'maxResults' : name),
    );

  app.get('/channels/:channelId/health', async (c) => {
    return c.json(healthJson(await channelHealth(res, await channelOf(c)), res.clock.now()));
  });

  app.get('/channels/:channelId/attempts', async (c) => {
    const q = query(c);
    return c.json(pageJson(await channelAttempts(res, await channelOf(c), q)));
  });

  app.post('/channels/:channelId/replay', async (c) => {
    const body = parseBody(replaySinceSchema, await readJson(c));
    const since = parseInstant(body.since, 'since');
    const replayed = await replayFailedSince(res, await channelOf(c), since);
    return c.json({ kind: 'calpush#replays', items: replayed.map(replayedJson) });
  });

  app.post('/channels/:channelId/reactivate', async (c) => {
    await reactivateChannel(res, await channelOf(c));
    return c.json(healthJson(await channelHealth(res, await channelOf(c)), res.clock.now()));
  });

  app.post('/channels/:channelId/test', async (c) => {
    return c.json(replayedJson(await sendTestNotification(res, await channelOf(c))));
  });

  app.get('/notifications/:notificationId/attempts', async (c) => {
    const q = query(c);
    const id = parseNotificationId(c.req.param('notificationId'));
    return c.json(pageJson(await notificationAttempts(res, id, scopeOf(c), q)));
  });

  app.post('/notifications/:notificationId/replay', async (c) => {
    const id = parseNotificationId(c.req.param('notificationId'));
    return c.json(replayedJson(await replayNotification(res, id, scopeOf(c))));
  });

  return app;
}
