import { GraphRequestAdapter, createGraphServiceClient } from '@microsoft/msgraph-sdk';
import type { GraphServiceClient } from '@microsoft/msgraph-sdk';
import '@microsoft/msgraph-sdk-users';
import '@microsoft/msgraph-sdk-subscriptions';
import {
  AllowedHostsValidator,
  BaseBearerTokenAuthenticationProvider,
} from '@microsoft/kiota-abstractions';
import type { ReceivedRequest, Reply } from './receiver.ts';

/**
 * Microsoft's own Graph SDK (Kiota) pointed at calpush: the one change an integration makes
 * is the request adapter's baseUrl. Plain http is allowed for 127.0.0.1.
 */
export function graphClientFor(baseUrl: string, accessToken: string): GraphServiceClient {
  const host = new URL(baseUrl).host;
  const auth = new BaseBearerTokenAuthenticationProvider({
    getAuthorizationToken: () => Promise.resolve(accessToken),
    getAllowedHostsValidator: () => new AllowedHostsValidator(new Set([host])),
  });
  const adapter = new GraphRequestAdapter(auth);
  adapter.baseUrl = `${baseUrl}/v1.0`;
  return createGraphServiceClient(adapter);
}

/** The validation token a handshake request carries, decoded; undefined for a notification. */
export function validationTokenOf(request: ReceivedRequest): string | undefined {
  return new URL(request.path, 'http://receiver').searchParams.get('validationToken') ?? undefined;
}

/**
 * A receiver's answers as a Graph endpoint gives them: the handshake echoed as text/plain,
 * notifications accepted with 202.
 */
export function graphReply(request: ReceivedRequest): Reply {
  const token = validationTokenOf(request);
  if (token !== undefined) {
    return { status: 200, headers: { 'content-type': 'text/plain' }, body: token };
  }
  return { status: 202 };
}

/** The items of every notification (not handshake) POST received at this path. */
export function notificationItems(
  requests: readonly ReceivedRequest[],
  path: string,
): Record<string, unknown>[] {
  return requests
    .filter((r) => r.path === path && validationTokenOf(r) === undefined)
    .flatMap((r) => (JSON.parse(r.body) as { value: Record<string, unknown>[] }).value);
}
