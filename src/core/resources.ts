import type { ResolveHost } from './callback-url.ts';
import type { Clock } from '../domain/clock.ts';
import type { Dialects } from '../domain/dialect.ts';
import type { SourceProviders } from '../domain/source.ts';
import type { SecretBox } from './secret-box.ts';
import type { Transaction } from 'kysely';
import type { Database, Db } from '../store/schema.ts';
import type { Write } from '../store/write-batcher.ts';
import type { TokenSealer } from './token-sealer.ts';
import type { PrincipalCache } from './principal-cache.ts';

/** What every core operation needs, passed as one object (no globals, no singletons). */
export interface CoreResources {
  readonly db: Db;
  /** Runs a write transaction; on SQLite, writes made together share one commit. */
  readonly write: Write;
  readonly clock: Clock;
  /** The registered wire dialects: each says what a change means for its channels. */
  readonly dialects: Dialects;
  /** Dev mode lifts the callback address rules. */
  readonly dev: boolean;
  /** Base URL clients reach this server at; used in next_page and resource URIs. */
  readonly publicUrl: string;
  /** Told after a commit that queued notifications, so delivery starts at once. */
  readonly notifyQueued: () => void;
  /** Told after a commit that closed channels, so requests already on the wire are dropped. */
  readonly notifyClosed: (channelIds: readonly string[]) => void;
  /** Seals and opens the opaque page and sync tokens both faces hand out. */
  readonly tokens: TokenSealer;
  /**
   * Seals what the store keeps and calpush must read back: client secrets, channel tokens,
   * source credentials. One key (or, during a rotation, a ring of them) for all.
   */
  readonly secrets: SecretBox;
  /** Sources of calendars that live elsewhere (CalDAV, ICS). */
  readonly sources: SourceResources;
  /** Recently checked bearer tokens; without it every request looks its token up. */
  readonly principals?: PrincipalCache | undefined;
  /** How long a streak of failures lasts before a channel closes (default 24 hours). */
  readonly deliveryWindowMs?: number | undefined;
  /** Live channels an account may hold on each face (default 128, Cronofy's own limit). */
  readonly channelsPerAccount?: number | undefined;
  /**
   * Finds a callback host's addresses when a channel is made outside dev mode (default: the
   * system resolver, as connections use). Tests hand in their own, to send no DNS query.
   */
  readonly resolveHost?: ResolveHost | undefined;
}

export interface SourceResources {
  readonly providers: SourceProviders;
  /** The shortest poll interval any source may have, whatever its provider allows. */
  readonly minIntervalMs: number;
  /**
   * Whether a password may go to this URL over plain http: in dev mode, or to a host the
   * operator allowed for sources (a server on a private network), never elsewhere.
   */
  readonly plainHttpAllowed: (url: URL) => boolean;
  /** Told after a commit that made a source due now, so its poll starts at once. */
  readonly wake: () => void;
}

/**
 * Runs a write that records a change, giving it the time it runs at. Taken before the
 * write, the time would include the wait for the store (a group commit under load): a
 * change could then carry an earlier time than one that committed before it, and a reader
 * asking for changes since that earlier one's time would never see it. On SQLite writes
 * run one after another, so times follow commit order exactly; on PostgreSQL concurrent
 * writers still commit in their own order, as before.
 */
export function writeNow<T>(
  res: Pick<CoreResources, 'write' | 'clock'>,
  fn: (trx: Transaction<Database>, now: number) => Promise<T>,
): Promise<T> {
  return res.write((trx) => fn(trx, res.clock.now()));
}
