import type { AttemptView, ChannelHealth } from '../core/delivery-log.ts';
import type { Replayed } from '../core/replays.ts';

/**
 * The delivery log in snake_case JSON, instants as ISO 8601 in UTC: what the Cronofy face and
 * the admin API both answer (the admin API adds whose channel it is). Google's face has its
 * own camelCase shape.
 */

export const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function attemptJson(a: AttemptView) {
  return {
    notification_id: a.notificationId,
    channel_id: a.channelId,
    at: isoOrNull(a.at),
    kind: a.kind,
    outcome: a.outcome,
    status: a.status,
    error: a.error,
    error_class: a.errorClass,
    latency_ms: a.latencyMs,
    response_excerpt: a.responseExcerpt,
    next_retry_at: isoOrNull(a.nextRetryAt),
    replay: a.replay,
    test: a.test,
  };
}

export function healthJson(h: ChannelHealth, now: number) {
  return {
    channel_id: h.channel.publicId,
    callback_url: h.channel.callbackUrl,
    state: h.state,
    closed_reason: h.channel.closedReason,
    closed_at: isoOrNull(h.closedAt),
    last_success_at: isoOrNull(h.lastSuccessAt),
    last_attempt_at: isoOrNull(h.lastAttemptAt),
    failing_since: isoOrNull(h.failingSince),
    failure_streak: h.failureStreak,
    closes_at: isoOrNull(h.closesAt),
    closes_in_seconds:
      h.closesAt === null ? null : Math.max(0, Math.round((h.closesAt - now) / 1000)),
    queued: h.queued,
  };
}

export function replayedJson(r: Replayed) {
  return { notification_id: r.notificationId, queued_as: r.queuedAs, merged: r.merged };
}
