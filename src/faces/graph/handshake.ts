import { randomUUID } from 'node:crypto';
import type { OutboundHttp } from '../../net/outbound-http.ts';
import { OutboundError } from '../../net/outbound-http.ts';
import { GraphError } from './errors.ts';

/** How the face reaches a receiver before a subscription exists: bounded, address-checked. */
export type HandshakeHttp = Pick<OutboundHttp, 'request'>;

/** Graph gives a receiver 10 seconds to echo the token. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

function failed(why: string): GraphError {
  return new GraphError(400, 'ValidationError', `Subscription validation request failed. ${why}`);
}

/** The URL with `validationToken` added to whatever query it already has. */
export function validationUrl(url: string, token: string): string {
  const withoutFragment = url.split('#')[0] ?? url;
  const joiner = withoutFragment.includes('?') ? '&' : '?';
  return `${withoutFragment}${joiner}validationToken=${encodeURIComponent(token)}`;
}

/**
 * Graph's validation handshake: POST the URL with a `validationToken` query parameter and an
 * empty body; the receiver must answer 200 with exactly the decoded token as text/plain.
 * The token has spaces and colons in it, as Graph's does, so a receiver that echoes it
 * without decoding fails here rather than in production.
 */
export async function validateEndpoint(http: HandshakeHttp, url: string): Promise<void> {
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
  let response;
  try {
    response = await http.request({
      method: 'POST',
      url: validationUrl(url, token),
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: '',
    });
  } catch (err) {
    if (err instanceof OutboundError && err.failure === 'timeout') {
      throw failed('Notification endpoint did not respond within 10 seconds.');
    }
    throw failed('Notification endpoint must respond with 200 OK to validation request.');
  }
  if (response.status !== 200) {
    throw failed('Notification endpoint must respond with 200 OK to validation request.');
  }
  const type = response.headers['content-type'] ?? '';
  if (!/^text\/plain\b/i.test(type)) {
    throw failed('Response must have a text/plain content type.');
  }
  if (response.body.toString('utf8') !== token) {
    throw failed('Response must exactly match validationToken query parameter.');
  }
}
