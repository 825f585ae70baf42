import type { Db, Executor } from '../store/schema.ts';
import type { SecretBox } from './secret-box.ts';
import { SecretBoxError } from './secret-box.ts';
import { inTransaction } from '../store/transaction.ts';
import { closeChannels } from '../store/channel-closing.ts';
import { TOKEN_KEY } from './token-sealer.ts';

/** Rows read per query, in key order. */
const BATCH = 500;

/** What a re-seal found, for each kind of sealed value. */
export interface ResealCount {
  /** Sealed values of this kind. */
  readonly total: number;
  /** Sealed again under the sealing key now. */
  readonly resealed: number;
  /** Sealed under a key the box does not hold: left as they were, or dropped if asked. */
  readonly unreadable: number;
}

export type SealedKind = 'client_secrets' | 'channel_tokens' | 'source_passwords' | 'token_key';
export type ResealReport = Readonly<Record<SealedKind, ResealCount>>;

export interface ResealOptions {
  /**
   * A value no key opens (its key lost): `keep` leaves it as it is; `drop` removes it, and
   * what needed it asks for it again (see each column's `drop`).
   */
  readonly unreadable: 'keep' | 'drop';
  readonly now: number;
}

/** Why a channel closed when its token could no longer be read. */
export const TOKEN_UNREADABLE = 'token_unreadable';

/** One sealed column: how to page through its rows, write one back, or drop one. */
interface SealedColumn {
  page(trx: Executor, after: string): Promise<{ key: string; sealed: string }[]>;
  write(trx: Executor, key: string, sealed: string): Promise<void>;
  drop(trx: Executor, key: string, now: number): Promise<void>;
}

const columns: Record<SealedKind, SealedColumn> = {
  client_secrets: {
    page: async (trx, after) =>
      (
        await trx
          .selectFrom('client_secrets')
          .select(['id', 'sealed_secret'])
          .where('id', '>', Number(after || 0))
          .orderBy('id')
          .limit(BATCH)
          .execute()
      ).map((r) => ({ key: String(r.id), sealed: r.sealed_secret })),
    write: async (trx, key, sealed) => {
      await trx
        .updateTable('client_secrets')
        .set({ sealed_secret: sealed })
        .where('id', '=', Number(key))
        .execute();
    },
    // The client signs with its other secrets; with none left, `clients rotate-secret`.
    drop: async (trx, key) => {
      await trx.deleteFrom('client_secrets').where('id', '=', Number(key)).execute();
    },
  },
  channel_tokens: {
    page: async (trx, after) =>
      (
        await trx
          .selectFrom('channels')
          .select(['id', 'sealed_token'])
          .where('id', '>', after)
          .where('sealed_token', 'is not', null)
          .orderBy('id')
          .limit(BATCH)
          .execute()
      ).map((r) => ({ key: r.id, sealed: r.sealed_token ?? '' })),
    write: async (trx, key, sealed) => {
      await trx
        .updateTable('channels')
        .set({ sealed_token: sealed })
        .where('id', '=', key)
        .execute();
    },
    // Its receiver checks the token: the channel is closed, for the client to make anew.
    drop: async (trx, key, now) => {
      await closeChannels(trx, [key], TOKEN_UNREADABLE, now);
      await trx.updateTable('channels').set({ sealed_token: null }).where('id', '=', key).execute();
    },
  },
  source_passwords: {
    page: async (trx, after) =>
      (
        await trx
          .selectFrom('sources')
          .select(['id', 'sealed_password'])
          .where('id', '>', after)
          .where('sealed_password', 'is not', null)
          .orderBy('id')
          .limit(BATCH)
          .execute()
      ).map((r) => ({ key: r.id, sealed: r.sealed_password ?? '' })),
    write: async (trx, key, sealed) => {
      await trx
        .updateTable('sources')
        .set({ sealed_password: sealed })
        .where('id', '=', key)
        .execute();
    },
    // Disconnected until a PATCH brings the password again, as when a server refuses it.
    drop: async (trx, key) => {
      await trx
        .updateTable('sources')
        .set({
          sealed_password: null,
          state: 'disconnected',
          next_poll_at: null,
          last_error: 'the stored password could not be read (secret key lost): send it again',
        })
        .where('id', '=', key)
        .execute();
    },
  },
  token_key: {
    page: async (trx, after) =>
      (
        await trx
          .selectFrom('meta')
          .select(['key', 'value'])
          .where('key', '=', TOKEN_KEY)
          .where('key', '>', after)
          .execute()
      ).map((r) => ({ key: r.key, sealed: r.value })),
    write: async (trx, key, sealed) => {
      await trx.updateTable('meta').set({ value: sealed }).where('key', '=', key).execute();
    },
    // A new one is made at the next start: page and sync tokens handed out before are
    // refused, and clients read from the start again (Google's 410 fullSyncRequired).
    drop: async (trx, key) => {
      await trx.deleteFrom('meta').where('key', '=', key).execute();
    },
  },
};

/**
 * Seals every sealed value in the store again under `box`'s sealing key, in one transaction:
 * the store holds either the old seals or the new ones, never a mix a crash left behind.
 * `box` must also hold the keys the values are sealed under now. Values already under the
 * sealing key are left alone, so running it again after an interruption finishes the job.
 */
export async function resealSecrets(
  db: Db,
  box: SecretBox,
  options: ResealOptions = { unreadable: 'keep', now: 0 },
): Promise<ResealReport> {
  return inTransaction(db, async (trx) => {
    const report = {} as Record<SealedKind, ResealCount>;
    for (const [kind, column] of Object.entries(columns) as [SealedKind, SealedColumn][]) {
      report[kind] = await resealColumn(trx, box, column, options);
    }
    return report;
  });
}

async function resealColumn(
  trx: Executor,
  box: SecretBox,
  column: SealedColumn,
  options: ResealOptions,
): Promise<ResealCount> {
  let total = 0;
  let resealed = 0;
  let unreadable = 0;
  let after = '';
  for (;;) {
    const rows = await column.page(trx, after);
    for (const row of rows) {
      total++;
      if (box.keyIdOf(row.sealed) === box.keyId) continue;
      let plain: string;
      try {
        plain = box.open(row.sealed);
      } catch (err) {
        if (!(err instanceof SecretBoxError)) throw err;
        unreadable++;
        if (options.unreadable === 'drop') await column.drop(trx, row.key, options.now);
        continue;
      }
      await column.write(trx, row.key, box.seal(plain));
      resealed++;
    }
    const last = rows.at(-1);
    if (!last || rows.length < BATCH) break;
    after = last.key;
  }
  return { total, resealed, unreadable };
}
