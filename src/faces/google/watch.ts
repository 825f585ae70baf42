import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { WatchedResource } from '../../domain/channel-matching.ts';
import type { GoogleEnv } from './context.ts';
import type { WatchBody } from './schemas.ts';
import { createGoogleChannel } from '../../core/channels.ts';
import { readJson } from '../../http/read-json.ts';
import { parseBody, watchBodySchema } from './schemas.ts';
import { channelJson } from './serialize.ts';

/** A stable opaque id of the watched resource: the same for every channel on it. */
export function watchedResourceId(accountId: string, resource: WatchedResource): string {
  return createHash('sha256')
    .update(`${accountId}\n${resource.kind}\n${resource.calendarId ?? ''}`)
    .digest('base64url')
    .slice(0, 27);
}

/** `expiration` (ms) and `params.ttl` (s) both ask for an end; the earlier one wins. */
function requestedExpiry(body: WatchBody, now: number): number | null {
  const ends: number[] = [];
  if (body.expiration !== undefined && body.expiration !== null) ends.push(Number(body.expiration));
  if (body.params?.ttl !== undefined) ends.push(now + Number(body.params.ttl) * 1000);
  return ends.length > 0 ? Math.min(...ends) : null;
}

/** The watch method every watchable collection shares. */
export async function watch(
  res: CoreResources,
  c: Context<GoogleEnv>,
  resource: WatchedResource,
  resourcePath: string,
): Promise<Response> {
  const body = parseBody(watchBodySchema, await readJson(c));
  const principal = c.get('principal');
  const channel = await createGoogleChannel(res, {
    accountId: principal.accountId,
    clientId: principal.clientId,
    publicId: body.id,
    address: body.address,
    token: body.token ?? null,
    requestedExpiry: requestedExpiry(body, res.clock.now()),
    resource,
    resourceId: watchedResourceId(principal.accountId, resource),
    resourceUri: `${res.publicUrl}/calendar/v3${resourcePath}?alt=json`,
  });
  return c.json(channelJson(channel));
}
