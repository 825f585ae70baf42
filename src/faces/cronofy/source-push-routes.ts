import { Hono } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { CronofyEnv } from './context.ts';
import { acceptSourcePush } from '../../core/source-push.ts';

/**
 * `POST /v1/sources/{provider}/push/{source_id}`: where a source's provider pushes (Google's
 * watch channels). It carries no bearer token; each push is checked by its channel's token.
 */
export function sourcePushRoutes(res: CoreResources) {
  const app = new Hono<CronofyEnv>();
  app.post('/:provider/push/:sourceId', async (c) => {
    await acceptSourcePush(res, {
      provider: c.req.param('provider'),
      sourceId: c.req.param('sourceId'),
      channelId: c.req.header('x-goog-channel-id') ?? '',
      token: c.req.header('x-goog-channel-token') ?? '',
      resourceState: c.req.header('x-goog-resource-state') ?? '',
    });
    return c.body(null, 200);
  });
  return app;
}
