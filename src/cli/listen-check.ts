import { hmacHeader } from '../faces/cronofy/signing.ts';
import { sameText } from '../domain/same-text.ts';
import type { IncomingHttpHeaders } from 'node:http';

/** The two wire dialects `calpush listen` can open a channel in. */
export const LISTEN_DIALECTS = ['cronofy', 'google'] as const;
export type ListenDialect = (typeof LISTEN_DIALECTS)[number];

/** What the listener knows to check a notification against. */
export interface Expected {
  readonly dialect: ListenDialect;
  /** Cronofy: the client secret (`--secret`); without it signatures go unchecked. */
  readonly secret: string | undefined;
  /** Google: the token the listener set on its channel. */
  readonly token: string;
}

export type Verdict = 'verified' | 'SIGNATURE MISMATCH' | 'unverified (no --secret)';

/** One notification as the listener prints it. */
export interface Seen {
  readonly kind: string;
  readonly notificationId: string;
  readonly channelId: string;
  readonly verdict: Verdict;
  /**
   * Cronofy change: from the earliest change it covers to its arrival. That change's time is
   * sent in whole seconds (rounded down), so this is an upper bound on the latency.
   */
  readonly ageMs: number | null;
}

const header = (headers: IncomingHttpHeaders, name: string): string =>
  [headers[name]].flat()[0] ?? '';

/**
 * Cronofy signs with every active secret, comma-separated: one matching value is enough.
 * Computed as the server signs (`hmacHeader`).
 */
function cronofySigned(body: Buffer, signatures: string, secret: string): boolean {
  const expected = hmacHeader(body, [secret]);
  return signatures.split(',').some((s) => sameText(s.trim(), expected));
}

function cronofyBody(body: Buffer): {
  notification?: { type?: unknown; changes_since?: unknown };
  channel?: { channel_id?: unknown };
} {
  try {
    return JSON.parse(body.toString('utf8')) as ReturnType<typeof cronofyBody>;
  } catch {
    return {};
  }
}

/** Reads and checks one request the listener received. */
export function inspect(
  expected: Expected,
  headers: IncomingHttpHeaders,
  body: Buffer,
  now: number,
): Seen {
  const notificationId = header(headers, 'calpush-notification-id') || '-';
  if (expected.dialect === 'google') {
    return {
      kind: header(headers, 'x-goog-resource-state') || '?',
      notificationId,
      channelId: header(headers, 'x-goog-channel-id') || '-',
      verdict: sameText(header(headers, 'x-goog-channel-token'), expected.token)
        ? 'verified'
        : 'SIGNATURE MISMATCH',
      ageMs: null,
    };
  }
  const parsed = cronofyBody(body);
  const since = parsed.notification?.changes_since;
  const sinceMs = typeof since === 'string' ? Date.parse(since) : Number.NaN;
  const verdict: Verdict =
    expected.secret === undefined
      ? 'unverified (no --secret)'
      : cronofySigned(body, header(headers, 'cronofy-hmac-sha256'), expected.secret)
        ? 'verified'
        : 'SIGNATURE MISMATCH';
  return {
    kind: typeof parsed.notification?.type === 'string' ? parsed.notification.type : '?',
    notificationId,
    channelId: typeof parsed.channel?.channel_id === 'string' ? parsed.channel.channel_id : '-',
    verdict,
    ageMs: Number.isNaN(sinceMs) ? null : Math.max(0, now - sinceMs),
  };
}

/** One line per notification: time, kind, notification id, channel, age, verdict, forward. */
export function formatLine(at: number, seen: Seen, forwarded: string): string {
  const age = seen.ageMs === null ? '-' : `≤${(seen.ageMs / 1000).toFixed(1)}s`;
  return [
    new Date(at).toISOString(),
    seen.kind.padEnd(14),
    seen.notificationId.padEnd(12),
    seen.channelId,
    `age ${age}`,
    seen.verdict,
    forwarded,
  ]
    .join('  ')
    .trimEnd();
}
