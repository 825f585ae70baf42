import { Hono } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { CronofyEnv } from './context.ts';
import { closeChannel, findChannel, listChannels } from '../../core/channels.ts';
import { createCronofyChannel } from './channels.ts';
import { cronofyDialect } from './dialect.ts';
import { readJson } from '../../http/read-json.ts';
import { createChannelSchema, parseBody } from './schemas.ts';
import { channelJson } from './serialize.ts';
import { CronofyError } from './errors.ts';

export function channelsRoutes(res: CoreResources) {
  const app = new Hono<CronofyEnv>();

  app.post('/', async (c) => {
    const body = parseBody(createChannelSchema, await readJson(c));
    const principal = c.get('principal');
    const channel = await createCronofyChannel(res, {
      accountId: principal.accountId,
      clientId: principal.clientId,
      creatorTokenHash: principal.tokenHash,
      callbackUrl: body.callback_url,
      calendarIds: body.filters?.calendar_ids ?? null,
      onlyManaged: body.filters?.only_managed ?? false,
    });
    return c.json({ channel: channelJson(channel) });
  });

  app.get('/', async (c) => {
    const principal = c.get('principal');
    const channels = await listChannels(res, { ...principal, dialect: cronofyDialect.name });
    return c.json({ channels: channels.map(channelJson) });
  });

  app.delete('/:channelId', async (c) => {
    const principal = c.get('principal');
    const channelId = c.req.param('channelId');
    const channel = await findChannel(res, { id: channelId });
    if (!channel || channel.dialect !== cronofyDialect.name) {
      throw CronofyError.field(404, 'channel_id', 'errors.not_found', `no channel ${channelId}`);
    }
    if (channel.accountId !== principal.accountId || channel.clientId !== principal.clientId) {
      throw CronofyError.field(403, 'channel_id', 'errors.forbidden', 'not your channel');
    }
    await closeChannel(res, channel.id, 'closed by client');
    return c.body(null, 202);
  });

  return app;
}
