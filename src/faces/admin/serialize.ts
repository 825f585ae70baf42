import type { AttemptPage, AttemptView, ChannelHealth } from '../../core/delivery-log.ts';
import type {
  AccountSummary,
  ChannelSummary,
  ClientSummary,
  SourceSummary,
} from '../../core/operator-views.ts';
import type { Completion } from '../../domain/delivery.ts';
import { notificationIdText, publicNotificationId } from '../../domain/delivery.ts';
import { errorClassOf } from '../../domain/attempt-log.ts';
import {
  attemptJson as sharedAttemptJson,
  healthJson as sharedHealthJson,
  isoOrNull,
} from '../../http/delivery-log-json.ts';

/**
 * The admin API's JSON: snake_case, instants as ISO 8601 in UTC with milliseconds; the
 * delivery log's shape is the Cronofy face's, with whose channel it is.
 */

export function attemptJson(a: AttemptView) {
  return { ...sharedAttemptJson(a), dialect: a.dialect };
}

export function pageJson(page: AttemptPage) {
  return { attempts: page.attempts.map(attemptJson), next_cursor: page.nextCursor };
}

export function healthJson(h: ChannelHealth, now: number) {
  return {
    id: h.channel.id,
    dialect: h.channel.dialect,
    client_id: h.channel.clientId,
    account_id: h.channel.accountId,
    ...sharedHealthJson(h, now),
  };
}

export function clientJson(c: ClientSummary) {
  return {
    client_id: c.clientId,
    name: c.name,
    created_at: isoOrNull(c.createdAt),
    accounts: c.accounts,
  };
}

export function accountJson(a: AccountSummary) {
  return {
    account_id: a.accountId,
    client_id: a.clientId,
    email: a.email,
    name: a.name,
    created_at: isoOrNull(a.createdAt),
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
    failing_since: isoOrNull(c.failingSince),
    closes_at: isoOrNull(c.closesAt),
    last_success_at: isoOrNull(c.lastSuccessAt),
    created_at: isoOrNull(c.createdAt),
  };
}

export function sourceJson(s: SourceSummary) {
  return {
    source_id: s.id,
    account_id: s.accountId,
    provider: s.provider,
    host: s.host,
    state: s.state,
    last_polled_at: isoOrNull(s.lastPolledAt),
    last_error: s.lastError,
  };
}

/** An attempt as the event stream sends it, the moment its outcome is recorded. */
export function completionJson(c: Completion) {
  const { delivery, attempt } = c;
  return {
    notification_id: notificationIdText(publicNotificationId(delivery)),
    id: delivery.channel.id,
    channel_id: delivery.channel.publicId,
    at: isoOrNull(attempt.at),
    kind: delivery.kind,
    dialect: delivery.channel.dialect,
    outcome: c.kind,
    status: attempt.status,
    error: attempt.error,
    error_class: errorClassOf(c.kind === 'delivered', attempt.status, attempt.error),
    latency_ms: Math.round(attempt.latencyMs),
    next_retry_at: c.kind === 'retry' ? isoOrNull(c.retryAt) : null,
    replay: delivery.purpose === 'replay',
    test: delivery.purpose === 'test',
  };
}

const completionTexts = new WeakMap<Completion, string>();

/**
 * `completionJson` as the event stream's text, made once per attempt however many dashboards
 * read the stream (its error class is a run of regular expressions).
 */
export function completionEventData(c: Completion): string {
  let text = completionTexts.get(c);
  if (text === undefined) completionTexts.set(c, (text = JSON.stringify(completionJson(c))));
  return text;
}
