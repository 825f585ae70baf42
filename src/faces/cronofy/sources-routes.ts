import { Hono } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { CronofyEnv } from './context.ts';
import {
  connectSource,
  getSource,
  listSources,
  patchSource,
  pollSourceNow,
  removeSource,
} from '../../core/sources.ts';
import { readJson } from '../../http/read-json.ts';
import { connectLinkSchema, createSourceSchema, parseBody, patchSourceSchema } from './schemas.ts';
import { CONNECT_LINK_MS, makeConnectLink } from '../../core/source-connect.ts';
import { sourceJson } from './serialize.ts';

/**
 * `/v1/sources`, a calpush extension: calendars that live on a CalDAV server, in an ICS feed
 * or in a Google Calendar account, mirrored read-only and turned into push like the
 * account's own.
 */
export function sourcesRoutes(res: CoreResources) {
  const app = new Hono<CronofyEnv>();

  app.post('/', async (c) => {
    const body = parseBody(createSourceSchema, await readJson(c));
    const source = await connectSource(res, {
      accountId: c.get('principal').accountId,
      provider: body.provider,
      url: body.url,
      refreshToken: body.refresh_token,
      username: body.username,
      password: body.password,
      name: body.name,
      pollIntervalSeconds: body.poll_interval_seconds,
    });
    return c.json({ source: sourceJson(source) }, 201);
  });

  // A link the app hands its user, who connects in the browser without the account's token.
  app.post('/connect/:provider', async (c) => {
    const body = parseBody(connectLinkSchema, await readJson(c));
    const url = makeConnectLink(res, {
      accountId: c.get('principal').accountId,
      provider: c.req.param('provider'),
      redirectUri: body.redirect_uri,
      state: body.state,
    });
    return c.json({ connect_url: url, expires_in: CONNECT_LINK_MS / 1000 }, 201);
  });

  app.get('/', async (c) => {
    const sources = await listSources(res, c.get('principal').accountId);
    return c.json({ sources: sources.map(sourceJson) });
  });

  app.get('/:sourceId', async (c) => {
    const source = await getSource(res, c.get('principal').accountId, c.req.param('sourceId'));
    return c.json({ source: sourceJson(source) });
  });

  app.patch('/:sourceId', async (c) => {
    const body = parseBody(patchSourceSchema, await readJson(c));
    const source = await patchSource(res, c.get('principal').accountId, c.req.param('sourceId'), {
      refreshToken: body.refresh_token,
      username: body.username,
      password: body.password,
      name: body.name,
      pollIntervalSeconds: body.poll_interval_seconds,
    });
    return c.json({ source: sourceJson(source) });
  });

  app.delete('/:sourceId', async (c) => {
    await removeSource(res, c.get('principal').accountId, c.req.param('sourceId'));
    return c.body(null, 202);
  });

  app.post('/:sourceId/poll', async (c) => {
    await pollSourceNow(res, c.get('principal').accountId, c.req.param('sourceId'));
    return c.body(null, 202);
  });

  return app;
}
