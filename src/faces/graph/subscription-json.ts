import type { ChannelView } from '../../core/channels.ts';
import { graphInterestOf } from './interest.ts';
import { graphInstant } from './graph-time.ts';

/**
 * A subscription as Graph returns it, unset properties null. Graph only echoes `clientState`
 * when the subscription is made; reads return it as null.
 */
export function subscriptionJson(channel: ChannelView, options: { clientState: boolean }) {
  const interest = graphInterestOf(channel.interest);
  return {
    id: channel.publicId,
    resource: interest.resource,
    applicationId: channel.clientId,
    changeType: interest.changeTypes.join(','),
    clientState: options.clientState ? channel.token : null,
    notificationUrl: channel.callbackUrl,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: interest.lifecycleUrl,
    expirationDateTime: channel.expiresAt === null ? null : graphInstant(channel.expiresAt),
    creatorId: channel.accountId,
    includeResourceData: false,
    latestSupportedTlsVersion: interest.tlsVersion,
    encryptionCertificate: null,
    encryptionCertificateId: null,
    notificationUrlAppId: null,
  };
}
