import type { CoreResources } from './resources.ts';
import { CoreError } from './errors.ts';

export interface SourcePush {
  readonly sourceId: string;
  /** The provider named in the push address: a push for another kind of source is unknown. */
  readonly provider: string;
  readonly channelId: string;
  readonly token: string;
  /** Google's X-Goog-Resource-State: `sync` opens a channel and says nothing changed. */
  readonly resourceState: string;
}

/**
 * A push from a source's provider: `sync` (a channel's first message; it may arrive before
 * the poll that opened the channel has stored it) is taken at once and does nothing; others
 * are checked against the channels the source keeps (an unknown channel is a 404, a wrong
 * token a 401, and neither does any work), then the
 * source is made due now, in the store, so whichever node leases it next polls it: pushes
 * may reach any node. Pushes before the poll starts share it; one while it runs leaves the
 * source due again (`pushed_at`), so what it announced is read by the next poll.
 */
export async function acceptSourcePush(
  res: CoreResources,
  push: SourcePush,
): Promise<'polled' | 'ignored'> {
  // `sync` only opens a channel and says nothing changed: answered before any lookup, alike
  // for every address, so it cannot be used to learn which sources exist.
  if (push.resourceState === 'sync') return 'ignored';
  const row = await res.db
    .selectFrom('sources')
    .select(['provider', 'cursor_json', 'state'])
    .where('id', '=', push.sourceId)
    .executeTakeFirst();
  const provider = row?.provider === push.provider ? res.sources.providers.get(row.provider) : null;
  if (!row || !provider?.verifyPush) throw new CoreError('not_found', 'no such push channel');
  const cursor = row.cursor_json === null ? null : (JSON.parse(row.cursor_json) as unknown);
  const verdict = provider.verifyPush(cursor, { channelId: push.channelId, token: push.token });
  if (verdict === 'unknown_channel') throw new CoreError('not_found', 'no such push channel');
  if (verdict === 'bad_token') throw new CoreError('unauthorized', 'wrong channel token');
  if (row.state === 'disconnected') return 'ignored';
  const now = res.clock.now();
  // One statement: the push is noted, and the next poll, if later, is brought forward to now.
  await res.write((trx) =>
    trx
      .updateTable('sources')
      .set((eb) => ({
        pushed_at: now,
        next_poll_at: eb
          .case()
          .when('next_poll_at', '>', now)
          .then(now)
          .else(eb.ref('next_poll_at'))
          .end(),
      }))
      .where('id', '=', push.sourceId)
      .execute(),
  );
  res.sources.wake();
  return 'polled';
}
