import type { AttemptPage, AttemptView, ChannelHealth } from '../../core/delivery-log.ts';
import type { Replayed } from '../../core/replays.ts';
import type {
  AccountSummary,
  ChannelSummary,
  ClientSummary,
  SourceSummary,
} from '../../core/operator-views.ts';
import type { Completion } from '../../domain/delivery.ts';
import { publicNotificationId } from '../../domain/delivery.ts';
import { errorClassOf } from '../../domain/attempt-log.ts';

/** The admin API's JSON: snake_case, instants as ISO 8601 in UTC with milliseconds. */
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function attemptJson(a: AttemptView) {
  return {
    notification_id: a.notificationId,
    channel_id: a.channelId,
    at: iso(a.at),
    kind: a.kind,
    dialect: a.dialect,
    outcome: a.outcome,
    status: a.status,
    error: a.error,
    error_class: a.errorClass,
    latency_ms: a.latencyMs,
    response_excerpt: a.responseExcerpt,
    next_retry_at: iso(a.nextRetryAt),
    replay: a.replay,
    test: a.test,
  };
}

export function pageJson(page: AttemptPage) {
  return { attempts: page.attempts.map(attemptJson), next_cursor: page.nextCursor };
}

export function healthJson(h: ChannelHealth, now: number) {
  return {
    id: h.channel.id,
    channel_id: h.channel.publicId,
    dialect: h.channel.dialect,
    client_id: h.channel.clientId,
    account_id: h.channel.accountId,
    callback_url: h.channel.callbackUrl,
    state: h.state,
    closed_reason: h.channel.closedReason,
    closed_at: iso(h.closedAt),
    last_success_at: iso(h.lastSuccessAt),
    last_attempt_at: iso(h.lastAttemptAt),
    failing_since: iso(h.failingSince),
    failure_streak: h.failureStreak,
    closes_at: iso(h.closesAt),
    closes_in_seconds:
      h.closesAt === null ? null : Math.max(0, Math.round((h.closesAt - now) / 1000)),
    queued: h.queued,
  };
}

export function replayedJson(r: Replayed) {
  return { notification_id: r.notificationId, queued_as: r.queuedAs, merged: r.merged };
}

export function clientJson(c: ClientSummary) {
  return {
    client_id: c.clientId,
    name: c.name,
    created_at: iso(c.createdAt),
    accounts: c.accounts,
  };
}

export function accountJson(a: AccountSummary) {
  return {
    account_id: a.accountId,
    client_id: a.clientId,
    email: a.email,
    name: a.name,
    created_at: iso(a.createdAt),
  };
}

export function channelSummaryJson(c: ChannelSummary) {
  return {
    id: c.id,
    channel_id: c.publicId,
    dialect: c.dialect,
    client_id: c.clientId,
    account_id: c.accountId,
    callback_url: c.callbackUrl,
    state: c.state,
    closed_reason: c.closedReason,
    failing_since: iso(c.failingSince),
    closes_at: iso(c.closesAt),
    last_success_at: iso(c.lastSuccessAt),
    created_at: iso(c.createdAt),
  };
}

export function sourceJson(s: SourceSummary) {
  return {
    source_id: s.id,
    account_id: s.accountId,
    provider: s.provider,
    host: s.host,
    state: s.state,
    last_polled_at: iso(s.lastPolledAt),
    last_error: s.lastError,
  };
}

/** An attempt as the event stream sends it, the moment its outcome is recorded. */
export function completionJson(c: Completion) {
  const { delivery, attempt } = c;
  return {
    notification_id: `ntf_${publicNotificationId(delivery)}`,
    id: delivery.channel.id,
    channel_id: delivery.channel.publicId,
    at: iso(attempt.at),
    kind: delivery.kind,
    dialect: delivery.channel.dialect,
    outcome: c.kind,
    status: attempt.status,
    error: attempt.error,
    error_class: errorClassOf(c.kind === 'delivered', attempt.status, attempt.error),
    latency_ms: Math.round(attempt.latencyMs),
    next_retry_at: c.kind === 'retry' ? iso(c.retryAt) : null,
    replay: delivery.purpose === 'replay',
    test: delivery.purpose === 'test',
  };
}
