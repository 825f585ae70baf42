import type { CoreResources } from '../../core/resources.ts';
import type { ChannelView } from '../../core/channels.ts';
import type { Principal } from '../../core/accounts.ts';
import type { GraphChangeType, GraphInterest } from './interest.ts';
import type { HandshakeHttp } from './handshake.ts';
import type { SubscriptionBody, SubscriptionPatch } from './schemas.ts';
import {
  DEFAULT_CHANNELS_PER_ACCOUNT,
  changeChannel,
  findChannel,
  openChannel,
} from '../../core/channels.ts';
import { checkCallbackHost, checkCallbackUrl, systemResolveHost } from '../../core/callback-url.ts';
import { graphChangeTypes } from './interest.ts';
import { graphDialect } from './dialect.ts';
import { GraphError } from './errors.ts';
import { validateEndpoint } from './handshake.ts';
import { subscribedEvents } from './subscribed-resource.ts';
import { subscriptionExpiry } from './subscription-expiry.ts';

/** Graph insists on HTTPS for both URLs; dev mode lifts it, as for the other faces. */
const callbackRules = (field: string) => ({ requireHttps: true, field });

function parseChangeTypes(value: string): GraphChangeType[] {
  const given = value.split(',').map((s) => s.trim());
  const known = new Set<string>(graphChangeTypes);
  const bad = given.find((t) => !known.has(t));
  if (bad !== undefined) {
    throw GraphError.invalid(`'${bad}' is not a valid change type: use created, updated, deleted.`);
  }
  // Stored in Graph's order, once each, whatever order the client wrote them in.
  return graphChangeTypes.filter((t) => given.includes(t));
}

/** The address rules, checked before anything is sent to the URL. */
async function checkAddress(res: CoreResources, url: string, field: string): Promise<void> {
  const rules = { dev: res.dev, ...callbackRules(field) };
  const parsed = checkCallbackUrl(url, rules);
  await checkCallbackHost(parsed, rules, res.resolveHost ?? systemResolveHost);
}

/**
 * Creates a subscription: the request is checked, then both URLs must pass the validation
 * handshake, and only then is the channel made (so a receiver that fails it leaves nothing).
 */
export async function createSubscription(
  res: CoreResources,
  http: HandshakeHttp,
  principal: Principal,
  body: SubscriptionBody,
): Promise<ChannelView> {
  const changeTypes = parseChangeTypes(body.changeType);
  if (body.includeResourceData) {
    throw GraphError.invalid('Rich notifications (includeResourceData) are not supported.');
  }
  const now = res.clock.now();
  const expiresAt = subscriptionExpiry(body.expirationDateTime, now);
  const { calendarId, profileId } = await subscribedEvents(res, principal, body.resource);
  const lifecycleUrl = body.lifecycleNotificationUrl ?? null;
  await checkAddress(res, body.notificationUrl, 'notificationUrl');
  if (lifecycleUrl !== null) await checkAddress(res, lifecycleUrl, 'lifecycleNotificationUrl');
  await validateEndpoint(http, body.notificationUrl);
  if (lifecycleUrl !== null && lifecycleUrl !== body.notificationUrl) {
    await validateEndpoint(http, lifecycleUrl);
  }
  const interest: GraphInterest = {
    dialect: 'graph',
    resource: body.resource,
    accountId: principal.accountId,
    calendarId,
    profileId,
    changeTypes,
    lifecycleUrl,
    tlsVersion: body.latestSupportedTlsVersion ?? 'v1_2',
  };
  return openChannel(res, {
    dialect: graphDialect.name,
    accountId: principal.accountId,
    clientId: principal.clientId,
    creatorTokenHash: principal.tokenHash,
    callbackUrl: body.notificationUrl,
    callback: callbackRules('notificationUrl'),
    idPrefix: 'sub',
    interest,
    token: body.clientState ?? null,
    expiresAt,
    maxPerAccount: res.channelsPerAccount ?? DEFAULT_CHANNELS_PER_ACCOUNT,
    now,
  });
}

/** The caller's live subscription by id; 404 for anyone else's, as for an unknown one. */
export async function ownSubscription(
  res: CoreResources,
  principal: Principal,
  id: string,
): Promise<ChannelView> {
  const channel = await findChannel(res, { clientId: principal.clientId, publicId: id });
  const live =
    channel !== undefined &&
    channel.dialect === graphDialect.name &&
    channel.accountId === principal.accountId &&
    (channel.expiresAt === null || channel.expiresAt > res.clock.now());
  if (!live) throw GraphError.notFound(`The object '${id}' was not found.`);
  return channel;
}

/** PATCH: a new expiry, a new notification URL (validated first), or both. */
export async function changeSubscription(
  res: CoreResources,
  http: HandshakeHttp,
  channel: ChannelView,
  patch: SubscriptionPatch,
): Promise<ChannelView> {
  if (patch.lifecycleNotificationUrl) {
    throw GraphError.invalid(
      'lifecycleNotificationUrl cannot be added or changed on an existing subscription.',
    );
  }
  if (!patch.expirationDateTime && !patch.notificationUrl) {
    throw GraphError.invalid(
      "Subscription must contain either the 'expirationDateTime' or 'notificationUrl' property to be updated.",
    );
  }
  const expiresAt = patch.expirationDateTime
    ? subscriptionExpiry(patch.expirationDateTime, res.clock.now())
    : undefined;
  const url = patch.notificationUrl ?? undefined;
  if (url !== undefined) {
    await checkAddress(res, url, 'notificationUrl');
    await validateEndpoint(http, url);
  }
  const changed = await changeChannel(res, channel.id, {
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(url === undefined ? {} : { callback: { url, ...callbackRules('notificationUrl') } }),
  });
  if (!changed) throw GraphError.notFound(`The object '${channel.publicId}' was not found.`);
  return changed;
}

/**
 * POST …/reauthorize: the subscription now answers to the caller's token (another of the
 * account's, after the one that made it was revoked, or the same one again).
 */
export async function reauthorizeSubscription(
  res: CoreResources,
  principal: Principal,
  channel: ChannelView,
): Promise<void> {
  const changed = await changeChannel(res, channel.id, { creatorTokenHash: principal.tokenHash });
  if (!changed) throw GraphError.notFound(`The object '${channel.publicId}' was not found.`);
}
