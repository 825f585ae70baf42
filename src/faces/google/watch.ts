import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { CoreResources } from '../../core/resources.ts';
import type { ChannelView } from '../../core/channels.ts';
import type { GoogleInterest, WatchedResource } from './interest.ts';
import type { GoogleEnv } from './context.ts';
import type { WatchBody } from './schemas.ts';
import { DEFAULT_CHANNELS_PER_ACCOUNT, openChannel } from '../../core/channels.ts';
import { googleDialect } from './dialect.ts';
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

export const GOOGLE_MAX_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

export interface GoogleChannelInput {
  readonly accountId: string;
  readonly clientId: string;
  /** The access token the request came with (`Principal.tokenHash`). */
  readonly creatorTokenHash?: string;
  readonly publicId: string;
  readonly address: string;
  readonly token: string | null;
  /** Requested lifetime end in ms, from `expiration` or `params.ttl`. */
  readonly requestedExpiry: number | null;
  readonly resource: WatchedResource;
  readonly resourceId: string;
  readonly resourceUri: string;
}

/** Opens a channel on a watched resource; it lives 7 days at most, and by default. */
export function createGoogleChannel(
  res: CoreResources,
  input: GoogleChannelInput,
): Promise<ChannelView> {
  const now = res.clock.now();
  const cap = now + GOOGLE_MAX_LIFETIME_MS;
  const expiresAt =
    input.requestedExpiry === null ? cap : Math.min(Math.max(input.requestedExpiry, now), cap);
  const interest: GoogleInterest = {
    dialect: 'google',
    resource: input.resource,
    resourceId: input.resourceId,
    resourceUri: input.resourceUri,
  };
  return openChannel(res, {
    dialect: googleDialect.name,
    accountId: input.accountId,
    clientId: input.clientId,
    ...(input.creatorTokenHash === undefined ? {} : { creatorTokenHash: input.creatorTokenHash }),
    callbackUrl: input.address,
    callback: { requireHttps: true, field: 'address' },
    idPrefix: 'gch',
    interest,
    publicId: { value: input.publicId, field: 'id' },
    maxPerAccount: res.channelsPerAccount ?? DEFAULT_CHANNELS_PER_ACCOUNT,
    token: input.token,
    expiresAt,
    now,
  });
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
    creatorTokenHash: principal.tokenHash,
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
