import { Hono } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { ChannelView } from '../../core/channels.ts';
import type { GoogleEnv } from './context.ts';
import { closeChannel, findChannel, listChannels } from '../../core/channels.ts';
import { readJson } from '../../http/read-json.ts';
import { GoogleError } from './errors.ts';
import { parseBody, stopBodySchema } from './schemas.ts';
import { channelJson } from './serialize.ts';
import { googleDialect } from './dialect.ts';
import { googleInterestOf } from './interest.ts';

/** calpush extension: a live channel with where it points and how delivery is going. */
function channelStatusJson(channel: ChannelView) {
  return {
    ...channelJson(channel),
    type: 'web_hook',
    address: channel.callbackUrl,
    resource: googleInterestOf(channel.interest).resource,
    health:
      channel.failingSince === null
        ? { state: 'healthy' }
        : { state: 'failing', failingSince: new Date(channel.failingSince).toISOString() },
  };
}

/** `/channels`: Google's stop, and calpush's listing of the caller's live channels. */
export function channelsRoutes(res: CoreResources) {
  const app = new Hono<GoogleEnv>();

  app.post('/stop', async (c) => {
    const body = parseBody(stopBodySchema, await readJson(c));
    const principal = c.get('principal');
    const matches = (ch: ChannelView | undefined): ch is ChannelView =>
      ch !== undefined &&
      ch.dialect === googleDialect.name &&
      (body.resourceId === undefined ||
        googleInterestOf(ch.interest).resourceId === body.resourceId);
    const own = await findChannel(res, { clientId: principal.clientId, publicId: body.id });
    if (matches(own) && own.accountId === principal.accountId) {
      await closeChannel(res, own.id, 'stopped by client');
      return c.body(null, 204);
    }
    const other = matches(own) ? own : await findChannel(res, { publicId: body.id });
    if (matches(other)) {
      throw new GoogleError(
        403,
        'forbidden',
        'Only the client that created a channel may stop it.',
      );
    }
    throw GoogleError.notFound(`Channel '${body.id}' not found for project`);
  });

  app.get('/', async (c) => {
    const channels = await listChannels(res, {
      ...c.get('principal'),
      dialect: googleDialect.name,
    });
    return c.json({ kind: 'calpush#channelList', items: channels.map(channelStatusJson) });
  });

  return app;
}
