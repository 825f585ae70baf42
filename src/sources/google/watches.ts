import { randomBytes } from 'node:crypto';
import { sameText } from '../../domain/same-text.ts';
import type { SecretOpener, SecretSealer } from '../../domain/secrets.ts';
import type { PushVerdict } from '../../domain/source.ts';
import { SourceError } from '../../domain/source.ts';
import type { GoogleApi } from './google-api.ts';

/** How calpush is reached by the provider's pushes. */
export interface PushSetup {
  /** The address a source's watch channels push to. */
  readonly address: (sourceId: string) => string;
  readonly secrets: SecretSealer & SecretOpener;
}

/** The calendar list's watch, beside each calendar's. */
export const CALENDAR_LIST = '';

/** One watch channel open upstream, as the source's cursor keeps it. */
export interface Watch {
  /** A calendar's remote id, or CALENDAR_LIST. */
  readonly target: string;
  readonly id: string;
  readonly resourceId: string;
  readonly expiresAt: number;
  readonly address: string;
  /** The channel token the provider echoes with each push, sealed. */
  readonly sealedToken: string;
}

/** The source's cursor: its watch channels. */
export interface WatchCursor {
  readonly v: 1;
  readonly watches: readonly Watch[];
}

/** A channel is renewed this long before its end (Google's last a week). */
export const RENEW_BEFORE_MS = 24 * 60 * 60_000;
/** While a watch is missing (it failed, or the upstream cannot watch), polls come this often. */
export const UNWATCHED_POLL_MS = 60_000;
/** The lifetime asked for: Google's longest. */
const WATCH_TTL_SECONDS = 7 * 24 * 60 * 60;

export function readWatchCursor(value: unknown): WatchCursor {
  if (typeof value !== 'object' || value === null) return { v: 1, watches: [] };
  const watches = (value as { watches?: unknown }).watches;
  if (!Array.isArray(watches)) return { v: 1, watches: [] };
  return { v: 1, watches: watches.filter(isWatch) };
}

function isWatch(value: unknown): value is Watch {
  if (typeof value !== 'object' || value === null) return false;
  const w = value as Record<string, unknown>;
  return (
    typeof w['target'] === 'string' &&
    typeof w['id'] === 'string' &&
    typeof w['resourceId'] === 'string' &&
    typeof w['expiresAt'] === 'number' &&
    typeof w['address'] === 'string' &&
    typeof w['sealedToken'] === 'string'
  );
}

/** Whether a push comes from one of the source's channels, with that channel's token. */
export function verifyPush(
  secrets: SecretOpener,
  cursor: unknown,
  channelId: string,
  token: string,
): PushVerdict {
  const watch = readWatchCursor(cursor).watches.find((w) => w.id === channelId);
  if (!watch) return 'unknown_channel';
  let expected: string;
  try {
    expected = secrets.open(watch.sealedToken);
  } catch {
    return 'bad_token';
  }
  return sameText(expected, token) ? 'accepted' : 'bad_token';
}

/**
 * A token sealed under a key the server no longer holds (dropped after a rotation) could not
 * check a push: its channel is made again, under the current key.
 */
function opens(secrets: SecretOpener, sealed: string): boolean {
  try {
    secrets.open(sealed);
    return true;
  } catch {
    return false;
  }
}

function watchPath(target: string): string {
  return target === CALENDAR_LIST
    ? '/users/me/calendarList/watch'
    : `/calendars/${encodeURIComponent(target)}/events/watch`;
}

async function openWatch(
  api: GoogleApi,
  setup: PushSetup,
  target: string,
  address: string,
  now: number,
): Promise<Watch> {
  const id = `calpush-${randomBytes(16).toString('hex')}`;
  const token = randomBytes(24).toString('base64url');
  const answer = await api.call({
    method: 'POST',
    path: watchPath(target),
    body: { id, type: 'web_hook', address, token, params: { ttl: String(WATCH_TTL_SECONDS) } },
  });
  const json = answer.gone ? null : (answer.json as Record<string, unknown> | null);
  const resourceId = json?.['resourceId'];
  if (typeof resourceId !== 'string') {
    throw new SourceError('malformed', 'a watch was answered with no resourceId');
  }
  const expiration = Number(json?.['expiration']);
  return {
    target,
    id,
    resourceId,
    // A channel without an end is still renewed weekly, as Google's would end.
    expiresAt:
      Number.isFinite(expiration) && expiration > 0 ? expiration : now + WATCH_TTL_SECONDS * 1000,
    address,
    sealedToken: setup.secrets.seal(token),
  };
}

/** Stops a channel upstream; one already gone, or a failure, only leaves it to expire. */
async function stopWatch(api: GoogleApi, watch: Watch): Promise<void> {
  await api
    .call({
      method: 'POST',
      path: '/channels/stop',
      body: { id: watch.id, resourceId: watch.resourceId },
    })
    .catch((err: unknown) => {
      if (!(err instanceof SourceError) || err.kind === 'refused') throw err;
    });
}

/** Push turned off (no public URL any more): the source's channels are stopped. */
export async function dropWatches(api: GoogleApi, previous: unknown): Promise<void> {
  for (const watch of readWatchCursor(previous).watches) await stopWatch(api, watch);
}

export interface KeptWatches {
  readonly cursor: WatchCursor;
  /** When the next poll must come at the latest: a renewal, or a retry of a missing watch. */
  readonly pollBy: number | undefined;
}

/**
 * Keeps one live watch channel on each target: a missing one is opened, one close to its
 * end (or pointing at an old address) is replaced, the new channel opened before the old is
 * stopped so no push falls between them, and channels on targets gone are stopped. A watch
 * the upstream refuses leaves the source polled every minute, and the watch tried again then.
 *
 * A channel opened in this poll is known here only once the poll is stored: a push it sends
 * before then is not accepted, so the next poll comes at once and reads what it announced.
 */
export async function keepWatches(
  api: GoogleApi,
  setup: PushSetup,
  sourceId: string,
  previous: unknown,
  targets: readonly string[],
  now: number,
): Promise<KeptWatches> {
  const address = setup.address(sourceId);
  const held = readWatchCursor(previous).watches;
  const kept: Watch[] = [];
  let opened = false;
  let missing = false;
  for (const target of targets) {
    const current = held.find((w) => w.target === target);
    if (
      current &&
      current.address === address &&
      current.expiresAt - RENEW_BEFORE_MS > now &&
      opens(setup.secrets, current.sealedToken)
    ) {
      kept.push(current);
      continue;
    }
    try {
      kept.push(await openWatch(api, setup, target, address, now));
      opened = true;
      if (current) await stopWatch(api, current);
    } catch (err) {
      if (!(err instanceof SourceError) || err.kind === 'refused') throw err;
      missing = true;
      if (current && current.expiresAt > now) kept.push(current);
    }
  }
  for (const gone of held.filter((w) => !targets.includes(w.target))) await stopWatch(api, gone);
  const renewals = kept.map((w) => w.expiresAt - RENEW_BEFORE_MS);
  const pollBy = Math.min(
    ...renewals,
    opened ? now : Infinity,
    missing ? now + UNWATCHED_POLL_MS : Infinity,
  );
  return { cursor: { v: 1, watches: kept }, pollBy: Number.isFinite(pollBy) ? pollBy : undefined };
}
