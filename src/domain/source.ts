import type { EventTime } from './event-time.ts';

/**
 * The port between calpush and a source of calendars that live elsewhere (a CalDAV server,
 * an ICS feed, later an upstream provider). A provider does HTTP and parsing; it never
 * writes SQL and never renders a notification. The core stores what it returns, with its
 * cursors, in one transaction per poll.
 */

/** One calendar a source holds upstream. */
export interface RemoteCalendar {
  /** Stable upstream identity: a CalDAV collection's URL, an ICS feed's URL. */
  readonly remoteId: string;
  readonly name: string;
  readonly color: string | null;
  readonly timeZone: string | null;
}

/** An event as a source read it: calpush's event fields and its iCalendar identity. */
export interface SourceEvent {
  readonly icalUid: string;
  /**
   * An override's RECURRENCE-ID (the original start of the occurrence it replaces); null for
   * a single event or a series.
   */
  readonly recurrenceId: EventTime | null;
  readonly summary: string | null;
  readonly description: string | null;
  readonly location: string | null;
  readonly start: EventTime;
  readonly end: EventTime;
  readonly status: 'confirmed' | 'tentative' | 'cancelled';
  /** RRULE, RDATE and EXDATE lines of a series, as iCalendar writes them; null otherwise. */
  readonly recurrence: readonly string[] | null;
}

/**
 * One upstream object: every component of one UID in one calendar (a series and its
 * overrides, or a single event), with a version that changes whenever its content does.
 */
export interface SourceItem {
  /** A CalDAV resource's href; an ICS feed's UID. */
  readonly key: string;
  /** A CalDAV etag; a hash of the object's text for a feed. */
  readonly version: string;
  /** Empty when the object holds no event (a VTODO, a VJOURNAL). */
  readonly events: readonly SourceEvent[];
}

/** What changed in one calendar since its cursor. */
export interface CalendarChanges {
  readonly remoteId: string;
  /** Items new or changed since the cursor. */
  readonly changed: readonly SourceItem[];
  /** Keys of items gone since the cursor. */
  readonly removed: readonly string[];
  /** The calendar's cursor after these changes (sync token, ctag, ETag, body hash). */
  readonly cursor: unknown;
}

export interface SourceCredentials {
  readonly username: string;
  readonly password: string;
}

export interface ConnectInput {
  readonly url: string;
  readonly credentials: SourceCredentials | null;
}

/** A connection that works: the calendars found, and the source's own cursor. */
export interface Connected {
  /** Provider state for later polls (a CalDAV calendar home), opaque to the core. */
  readonly cursor: unknown;
  readonly calendars: readonly RemoteCalendar[];
}

/** A calendar as the core last stored it, for the provider to poll from. */
export interface KnownCalendar {
  readonly remoteId: string;
  /** What the provider returned last time; null before the first poll. */
  readonly cursor: unknown;
  /** Each stored item's version by key, read only when a provider must diff (costly). */
  readonly items: () => Promise<ReadonlyMap<string, string>>;
}

export interface PollInput extends ConnectInput {
  /** The source polled: a provider that asks to be pushed to names it in its push address. */
  readonly sourceId?: string | undefined;
  readonly cursor: unknown;
  readonly calendars: readonly KnownCalendar[];
}

export interface PollResult {
  readonly cursor: unknown;
  /** Every calendar the source holds now: the core adds new ones and removes missing ones. */
  readonly calendars: readonly RemoteCalendar[];
  /** Only calendars with changes, new calendars included. */
  readonly changes: readonly CalendarChanges[];
  /**
   * The latest the next poll may come (a push channel to renew, watches to try again), when
   * sooner than the source's interval.
   */
  readonly pollBy?: number | undefined;
}

/** Why a source could not be read; the scheduler decides from the kind. */
export type SourceErrorKind =
  /** The server refused the credentials (401, 403): the source is disconnected. */
  | 'auth'
  /** Nothing calendar-like at the URL (no calendar discovered, 404, not iCalendar). */
  | 'not_found'
  /** The server answered with something that cannot be read (bad XML or iCalendar). */
  | 'malformed'
  /** The address is not one calpush may connect to. */
  | 'refused'
  /** Network failure, timeout, 5xx, 429: try again later. */
  | 'unavailable';

export class SourceError extends Error {
  override name = 'SourceError';
  readonly kind: SourceErrorKind;
  /** From `Retry-After`: the earliest the server wants to be asked again. */
  readonly retryAfterMs: number | undefined;

  constructor(kind: SourceErrorKind, message: string, retryAfterMs?: number) {
    super(message);
    this.kind = kind;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A kind of source: how to connect to one and how to poll it. */
export interface SourceProvider {
  /** Stored with each source (`caldav`, `ics`); shown as the profile's provider name. */
  readonly name: string;
  readonly defaultIntervalMs: number;
  /** The shortest interval a client may ask for. */
  readonly minIntervalMs: number;
  /**
   * A provider of one service (Google Calendar) reads it here, and its credential is an OAuth
   * refresh token (kept as the password) rather than a user name and password.
   */
  readonly serviceUrl?: string | undefined;
  /**
   * For a provider that pushes: whether a push names one of the source's channels (kept in
   * its cursor) with that channel's token. Nothing is done for a push not `accepted`.
   */
  verifyPush?(cursor: unknown, push: IncomingPush): PushVerdict;
  /** Set when calpush has an app at the provider: users connect in their browser. */
  readonly consent?: OAuthConsent | undefined;
  /** Checks the connection and discovers the calendars; throws SourceError. */
  connect(input: ConnectInput): Promise<Connected>;
  /** Finds what changed since the cursors; throws SourceError. */
  poll(input: PollInput): Promise<PollResult>;
  /** The source was removed: what it holds upstream (push channels) is let go; never throws. */
  release?(input: ConnectInput & { readonly cursor: unknown }): Promise<void>;
}

/** How a provider's users grant calpush access in their browser (OAuth 2 with PKCE). */
export interface OAuthConsent {
  /** The provider's consent page for calpush's app, sending the user back to `redirectUri`. */
  consentUrl(input: { redirectUri: string; state: string; codeChallenge: string }): string;
  /** Trades the code the user came back with for a refresh token; throws SourceError. */
  exchangeCode(input: { code: string; redirectUri: string; codeVerifier: string }): Promise<string>;
}

/** What a push said about itself: the channel it came on and that channel's token. */
export interface IncomingPush {
  readonly channelId: string;
  readonly token: string;
}

export type PushVerdict = 'accepted' | 'unknown_channel' | 'bad_token';

/** Registered providers by name. */
export type SourceProviders = ReadonlyMap<string, SourceProvider>;
