import { Hono } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { GraphEnv } from './context.ts';
import type { HandshakeHttp } from './handshake.ts';
import { closeChannel, listChannels } from '../../core/channels.ts';
import { readJson } from '../../http/read-json.ts';
import { graphDialect } from './dialect.ts';
import { parseBody, subscriptionBodySchema, subscriptionPatchSchema } from './schemas.ts';
import { subscriptionJson } from './subscription-json.ts';
import { changeSubscription, createSubscription, ownSubscription } from './subscriptions.ts';

/** `/subscriptions`: create (after the handshake), list, read, renew, delete, reauthorize. */
export function subscriptionsRoutes(res: CoreResources, http: HandshakeHttp) {
  const app = new Hono<GraphEnv>();
  const context = (suffix: string) => `${res.publicUrl}/v1.0/$metadata#subscriptions${suffix}`;

  app.post('/', async (c) => {
    const body = parseBody(subscriptionBodySchema, await readJson(c));
    const channel = await createSubscription(res, http, c.get('principal'), body);
    return c.json(
      {
        '@odata.context': context('/$entity'),
        ...subscriptionJson(channel, { clientState: true }),
      },
      201,
    );
  });

  app.get('/', async (c) => {
    const channels = await listChannels(res, {
      ...c.get('principal'),
      dialect: graphDialect.name,
    });
    return c.json({
      '@odata.context': context(''),
      value: channels.map((ch) => subscriptionJson(ch, { clientState: false })),
    });
  });

  app.get('/:id', async (c) => {
    const channel = await ownSubscription(res, c.get('principal'), c.req.param('id'));
    return c.json({
      '@odata.context': context('/$entity'),
      ...subscriptionJson(channel, { clientState: false }),
    });
  });

  app.patch('/:id', async (c) => {
    const patch = parseBody(subscriptionPatchSchema, await readJson(c));
    const channel = await ownSubscription(res, c.get('principal'), c.req.param('id'));
    const changed = await changeSubscription(res, http, channel, patch);
    return c.json({
      '@odata.context': context('/$entity'),
      ...subscriptionJson(changed, { clientState: false }),
    });
  });

  app.delete('/:id', async (c) => {
    const channel = await ownSubscription(res, c.get('principal'), c.req.param('id'));
    await closeChannel(res, channel.id, 'deleted by client');
    return c.body(null, 204);
  });

  // calpush's tokens do not expire on their own: reauthorizing only confirms the caller owns it.
  app.post('/:id/reauthorize', async (c) => {
    await ownSubscription(res, c.get('principal'), c.req.param('id'));
    return c.body(null, 204);
  });

  return app;
}
