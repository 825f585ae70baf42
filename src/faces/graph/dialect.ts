import type { ChangeFact } from '../../domain/change.ts';
import type { Dialect, PlannedNotification } from '../../domain/dialect.ts';
import type { GraphInterest } from './interest.ts';
import { changeTypeOf, graphHearsEvent } from './interest.ts';
import { graphInterestOf } from './interest.ts';
import {
  calendarEventsPath,
  changeKind,
  eventPath,
  lifecycleKind,
  parseKind,
} from './notification-kinds.ts';
import { renderGraphNotification } from './notification-renderer.ts';
import { graphErrorBody } from './errors.ts';

/**
 * The change log groups channels by the plan object it gets back, so every channel that
 * hears one change must get the same object for the same kind: plans are kept per change.
 */
const plansByChange = new WeakMap<ChangeFact, Map<string, PlannedNotification>>();

function planOf(change: ChangeFact, kind: string): PlannedNotification {
  let plans = plansByChange.get(change);
  if (!plans) plansByChange.set(change, (plans = new Map<string, PlannedNotification>()));
  let plan = plans.get(kind);
  // The latest change's number is the event's changeKey, which the item's etag names.
  if (!plan) plans.set(kind, (plan = { kind, withChangeTime: false, withLatestSeq: true }));
  return plan;
}

const SUBSCRIPTION_REMOVED: PlannedNotification = {
  kind: lifecycleKind('subscriptionRemoved'),
  withChangeTime: false,
};

/** Items one notification POST carries at most. */
export const GRAPH_BATCH_SIZE = 100;

/** A subscription is told to reauthorize this long before it expires. */
const REAUTHORIZE_BEFORE_MS = 15 * 60 * 1000;

/** Sent before a subscription expires and when the token that made it is revoked. */
const REAUTHORIZATION_REQUIRED = {
  kind: lifecycleKind('reauthorizationRequired'),
  applies: (interest: unknown) => graphInterestOf(interest).lifecycleUrl !== null,
};

/**
 * The calendar a subscription is limited to was deleted (here, or at its source), or the
 * source it mirrors was disconnected (its server refused the credentials).
 */
function subscribedCalendarRemoved(interest: GraphInterest, change: ChangeFact): boolean {
  if (interest.calendarId === null) return false;
  if (change.resource === 'profile') {
    return (
      change.profileEvent === 'disconnected' &&
      interest.profileId !== undefined &&
      interest.profileId !== null &&
      interest.profileId === change.resourceId
    );
  }
  return (
    change.resource === 'calendar' &&
    change.removed === true &&
    interest.calendarId === change.calendarId
  );
}

/** The path a change is notified under: the event, or a source batch's whole calendar. */
function pathOf(change: ChangeFact): string {
  const id = change.resourceId;
  // A source's batch is recorded under its calendar's id, not an event's.
  if (id === undefined || id === change.calendarId) {
    return calendarEventsPath(change.calendarId ?? '');
  }
  return eventPath(id);
}

/**
 * The Microsoft Graph dialect: a validation handshake instead of a first message, then one
 * JSON item per changed event (`created`, `updated`, `deleted`), each carrying the
 * subscription's clientState; lifecycle events go to the lifecycle URL.
 */
export const graphDialect: Dialect<GraphInterest> = {
  name: 'graph',
  firstMessage: null,
  planFor(interest, change) {
    // The account is being erased: its subscriptions go with it, and say so first.
    if (change.accountEvent === 'erasure_requested') {
      return interest.lifecycleUrl === null ? null : SUBSCRIPTION_REMOVED;
    }
    if (subscribedCalendarRemoved(interest, change)) {
      // The subscription can hear nothing more: it says goodbye and ends (see isFarewell).
      return interest.lifecycleUrl === null ? null : SUBSCRIPTION_REMOVED;
    }
    if (!graphHearsEvent(interest, change)) return null;
    const changeType = changeTypeOf(change);
    if (!interest.changeTypes.includes(changeType)) return null;
    return planOf(change, changeKind(changeType, pathOf(change)));
  },
  isSuccess: (status) => status >= 200 && status < 300,
  render: renderGraphNotification,
  // Graph gives a receiver 3 s, retries for up to 4 hours, then drops the notification and
  // tells the lifecycle URL (if any) that something was missed; the subscription lives on.
  timeoutMs: 3_000,
  // Changes to a subscription's events that wait together go out together; lifecycle events
  // go to another URL, so never in a request with changes.
  batch: {
    size: GRAPH_BATCH_SIZE,
    sameRequest: (head, next) => parseKind(head).type === parseKind(next).type,
    // Subscriptions that share a notification URL share its POSTs, as on Graph.
    acrossChannels: (delivery) =>
      parseKind(delivery.kind).type === 'change' ? delivery.channel.callbackUrl : null,
  },
  retryWindowMs: 4 * 60 * 60 * 1000,
  expiryNotice: { beforeMs: REAUTHORIZE_BEFORE_MS, ...REAUTHORIZATION_REQUIRED },
  // The token that made a subscription was revoked: the app is asked to reauthorize it with
  // another (POST …/reauthorize); if it never does, it lives on to its expiry.
  revocationNotice: REAUTHORIZATION_REQUIRED,
  isFarewell: (kind) => kind === SUBSCRIPTION_REMOVED.kind,
  giveUp(delivery) {
    const hasLifecycleUrl = graphInterestOf(delivery.channel.interest).lifecycleUrl !== null;
    const wasLifecycle = parseKind(delivery.kind).type === 'lifecycle';
    return { notice: hasLifecycleUrl && !wasLifecycle ? lifecycleKind('missed') : null };
  },
  errorBody: (status, message) =>
    graphErrorBody(status === 413 ? 'RequestEntityTooLarge' : 'InvalidRequest', message),
};
