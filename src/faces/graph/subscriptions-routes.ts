import { Hono } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { GraphEnv } from './context.ts';
import type { HandshakeHttp } from './handshake.ts';
import { closeChannel, listChannels } from '../../core/channels.ts';
import { readJson } from '../../http/read-json.ts';
import { graphDialect } from './dialect.ts';
import { parseBody, subscriptionBodySchema, subscriptionPatchSchema } from './schemas.ts';
import { subscriptionJson } from './subscription-json.ts';
import {
  changeSubscription,
  createSubscription,
  ownSubscription,
  reauthorizeSubscription,
} from './subscriptions.ts';
import { GraphError } from './errors.ts';
import { linkTo, odataParam, pageSize } from './odata-params.ts';

const LIST = 'graph-subscriptions';
/** Subscriptions a list page holds at most. */
const LIST_PAGE = 100;

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
    const principal = c.get('principal');
    const channels = await listChannels(res, { ...principal, dialect: graphDialect.name });
    // Pages of live subscriptions in creation order; a page token holds where to go on.
    const token = odataParam(c, '$skiptoken');
    let from = 0;
    if (token !== undefined) {
      const state = res.tokens.open<{ a: string; from: number }>(LIST, token);
      if (state?.a !== principal.accountId) {
        throw GraphError.invalid('The $skiptoken is not valid.');
      }
      from = state.from;
    }
    const size = pageSize(c, LIST_PAGE, LIST_PAGE);
    const page = channels.slice(from, from + size);
    const more = from + size < channels.length;
    return c.json({
      '@odata.context': context(''),
      ...(more
        ? {
            '@odata.nextLink': linkTo(
              res,
              c,
              '$skiptoken',
              res.tokens.seal(LIST, { a: principal.accountId, from: from + size }),
            ),
          }
        : {}),
      value: page.map((ch) => subscriptionJson(ch, { clientState: false })),
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

  // calpush's tokens do not expire on their own, but may be revoked: reauthorizing binds the
  // subscription to the caller's token, so revoking that one is what asks again.
  app.post('/:id/reauthorize', async (c) => {
    const principal = c.get('principal');
    const channel = await ownSubscription(res, principal, c.req.param('id'));
    await reauthorizeSubscription(res, principal, channel);
    return c.body(null, 204);
  });

  return app;
}
